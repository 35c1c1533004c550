/**
 * Retries re-run the whole transaction after a connection lost before COMMIT (reusing the
 * backup), never a single statement and never a COMMIT that was sent; a COMMIT cut in
 * flight is resolved with pg_xact_status, including one the server is still committing.
 */
import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunFailed } from "../../src/atomic-etl.js";
import { captureState, stateDiff } from "./support/db-state.js";
import { startCutProxy } from "./support/cut-proxy.js";
import { type FaultBench, openBench, other } from "./support/fault-bench.js";
import { sql } from "./support/fault-cluster.js";
import { clusterOf, terminateRunConnection } from "./support/fault-specs.js";
import { SMALL } from "./support/release-fixture.js";

let bench: FaultBench;
const FAST = { retries: 2, retryDelayMs: 50 };

beforeAll(async () => {
  bench = await openBench({ size: SMALL, batchSize: 5 });
}, 180_000);
afterAll(() => bench?.close());

/** Asserts the database is exactly release `v`, row by row. */
async function expectRelease(v: "A" | "B") {
  expect(stateDiff(await captureState(bench.url), bench.states[v])).toEqual([]);
  bench.current = v;
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected the run to fail");
    },
    (e: unknown) => {
      if (!(e instanceof RunFailed)) throw e;
      return e;
    },
  );

const dumpsOf = async (runId: string) =>
  (await readdir(bench.backupDir)).filter((f) => f.endsWith(".dump") && f.includes(runId.slice(0, 8)));

describe("retries", () => {
  it("should re-run the whole transaction once after the run's backend is terminated mid-load, loading the release exactly once", async () => {
    const target = other(bench.current);
    let cut = 0;
    const report = await bench.etl({ local: FAST }).import({
      release: target,
      url: bench.url,
      hooks: {
        afterBatch: async ({ table, batch }) => {
          if (table === "players" && batch === 3 && cut++ === 0) await terminateRunConnection(bench.url);
        },
      },
    });
    expect(report.outcome).toBe("committed");
    expect(report.attempts).toBe(2);
    expect(report.retries).toEqual([expect.objectContaining({ attempt: 1, code: "CONNECTION_LOST" })]);
    // the backup taken before the first attempt serves both
    expect(await dumpsOf(report.runId)).toHaveLength(1);
    expect(report.tables.find((t) => t.table === "players")?.rowsLoaded).toBe(bench.counts[target]["players.json"]);
    await expectRelease(target);
  });

  it("should fail with CONNECTION_LOST and leave the database unchanged when retries are 0", async () => {
    const before = bench.current;
    const e = await failure(
      bench.etl({ local: { retries: 0 } }).import({
        release: other(before),
        url: bench.url,
        hooks: {
          afterBatch: async ({ table, batch }) => void (table === "teams" && batch === 1 && (await terminateRunConnection(bench.url))),
        },
      }),
    );
    expect(e.error.code).toBe("CONNECTION_LOST");
    expect(e.error.data).toBe("rolled back; database unchanged");
    expect(e.exitCode).toBe(9);
    expect(e.report.attempts).toBe(1);
    await expectRelease(before);
  });

  it("should not retry an error that is not a lost connection", async () => {
    const before = bench.current;
    let calls = 0;
    const e = await failure(
      bench.etl({ local: FAST }).import({
        release: other(before),
        url: bench.url,
        hooks: {
          afterBatch: () => {
            calls++;
            throw new Error("disk full (simulated)");
          },
        },
      }),
    );
    expect(e.error.code).toBe("HOOK_FAILED");
    expect(e.report.attempts).toBe(1);
    expect(calls).toBe(1);
    await expectRelease(before);
  });

  it("should wait for a restarted server and re-run the whole transaction", async () => {
    const target = other(bench.current);
    const cluster = clusterOf(bench);
    let restarted: Promise<void> | null = null;
    const report = await bench.etl({ local: { retries: 3, retryDelayMs: 400 } }).import({
      release: target,
      url: bench.url,
      hooks: {
        afterBatch: async ({ table, batch }) => {
          if (table !== "matches" || batch !== 1 || restarted) return;
          await cluster.stopImmediate();
          restarted = new Promise((r) => setTimeout(r, 300)).then(() => cluster.start());
        },
      },
    });
    await restarted;
    expect(report.outcome).toBe("committed");
    expect(report.attempts).toBeGreaterThanOrEqual(2);
    expect(report.retries.every((r) => r.code === "CONNECTION_LOST")).toBe(true);
    await expectRelease(target);
  });
});

describe("a COMMIT cut in flight", () => {
  // "reset": the TCP RST a crashing server gives, which Prisma's adapter throws as a bare
  // DriverAdapterError "ConnectionClosed" (once misread as HOOK_FAILED)
  it.each([
    ["drop", "the COMMIT never reached the server"],
    ["reset", "the socket is reset under the COMMIT (ECONNRESET)"],
  ] as const)("should report rolled back, and not re-run, when the cut is %s: %s", async (mode, _what) => {
    const before = bench.current;
    const proxy = await startCutProxy(bench.url);
    try {
      const e = await failure(
        bench
          .etl({ local: FAST })
          .import({ release: other(before), url: proxy.url, hooks: { beforeCommit: () => void proxy.cutNextCommit(mode) } }),
      );
      expect(e.error.code).toBe("COMMIT_IN_DOUBT");
      expect(e.error.meta.transactionStatus).toBe("aborted");
      expect(e.error.data).toBe("rolled back; database unchanged");
      expect(e.report.attempts).toBe(1);
      await expectRelease(before);
    } finally {
      await proxy.close();
    }
  });

  it("should resolve as committed (a success), and not re-run or restore, when the COMMIT landed but the answer was lost", async () => {
    const target = other(bench.current);
    const proxy = await startCutProxy(bench.url);
    try {
      const report = await bench
        .etl({ local: FAST })
        .import({ release: target, url: proxy.url, hooks: { beforeCommit: () => void proxy.cutNextCommit("deliver-after-reply") } });
      expect(report.outcome).toBe("committed");
      expect(report.commitConfirmedBy).toBe("pg_xact_status");
      expect(report.attempts).toBe(1);
      await expectRelease(target);
    } finally {
      await proxy.close();
    }
  });

  it("should wait for a COMMIT the server is still running, then report committed without restoring the backup", async () => {
    const target = other(bench.current);
    // a deferred trigger makes COMMIT take seconds (as a synchronous standby can)
    await sql(
      bench.url,
      "CREATE OR REPLACE FUNCTION fault_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.6); RETURN NULL; END $$",
    );
    await sql(
      bench.url,
      "CREATE CONSTRAINT TRIGGER fault_slow_commit AFTER INSERT ON leagues DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fault_slow_commit()",
    );
    const proxy = await startCutProxy(bench.url);
    try {
      const report = await bench
        .etl({ local: FAST })
        .import({ release: target, url: proxy.url, hooks: { beforeCommit: () => void proxy.cutNextCommit("deliver-and-cut") } });
      expect(report.outcome).toBe("committed");
      expect(report.commitConfirmedBy).toBe("pg_xact_status");
      expect(report.attempts).toBe(1);
      await expectRelease(target);
    } finally {
      await proxy.close();
      await sql(bench.url, "DROP TRIGGER fault_slow_commit ON leagues");
    }
  });
});
