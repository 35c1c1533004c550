/**
 * Faults in the middle of a COPY: the run's COPY … FROM STDIN is caught while the server
 * executes it (pg_stat_activity), then the run is killed with SIGKILL, or its backend is ended
 * with pg_terminate_backend. The database must be exactly the release it held before (or,
 * when a retry re-ran the transaction and committed, exactly the new one), nothing may be left
 * behind, and the next run must succeed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtlError } from "../../src/errors.js";
import { useTestDatabase } from "../fixtures/core/kit.js";
import { type FaultBench, openBench } from "./support/fault-bench.js";
import { sleep, sql } from "./support/fault-cluster.js";
import { FAULT_CONFIG } from "./support/paths.js";
import type { ReleaseSize } from "./support/release-fixture.js";
import { spawnCli } from "./support/spawn-run.js";

/** ~100k categories in batches of 25k: each COPY runs long enough to be caught in flight. */
const SIZE: ReleaseSize = { teams: 6, players: 12, statsPerMatch: 12, categories: 100_000 };

/** The bench's database for the file (the bench drops it on close; the fixture's drop is then a no-op). */
const database = useTestDatabase({ seed: false, scope: "suite" });
let bench: FaultBench;
beforeAll(async () => {
  bench = await openBench({ size: SIZE, batchSize: 25_000, database });
}, 600_000);
afterAll(async () => {
  await bench?.close();
});

/** Waits until a backend of the run executes `COPY … FROM STDIN`; its pid. */
async function copyInFlight(timeoutMs = 120_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const [r] = await sql<{ pid: number }>(
      bench.url,
      `SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY %FROM STDIN%' AND pid <> pg_backend_pid()`,
    );
    if (r) return r.pid;
    await sleep(2);
  }
  throw new Error("no COPY … FROM STDIN was seen in flight");
}

async function expectBefore(before: "A" | "B"): Promise<void> {
  const after = await bench.inspect();
  expect(after.diff).toEqual([]);
  expect(after.state).toBe(before);
  expect(after.clean).toBe(true);
}

describe("faults in the middle of a COPY", () => {
  it("should leave the database exactly as before when the run is killed with SIGKILL during a COPY, and let the next run succeed", async () => {
    const before = bench.current;
    const target = before === "A" ? "B" : "A";
    const run = spawnCli(["import", target, "--config", FAULT_CONFIG, "--no-backup"], bench.runEnv());
    await copyInFlight();
    run.kill();
    const r = await run.done;
    expect(r.signal).toBe("SIGKILL");
    await expectBefore(before);
    await bench.importClean(target);
  });

  it("should roll back with CONNECTION_LOST and leave the database as before when pg_terminate_backend ends the session during a COPY", async () => {
    const before = bench.current;
    const target = before === "A" ? "B" : "A";
    const run = bench.etl({ local: { retries: 0 } }).import({ release: target, url: bench.url, backup: false });
    run.catch(() => undefined);
    const pid = await copyInFlight();
    await sql(bench.url, "SELECT pg_terminate_backend($1)", [pid]);
    const e = await run.then(
      () => null,
      (x: unknown) => x,
    );
    const error = (e as { error?: unknown } | null)?.error;
    expect(error).toBeInstanceOf(EtlError);
    expect((error as EtlError).code).toBe("CONNECTION_LOST");
    await expectBefore(before);
    await bench.importClean(target);
  });

  it("should re-run the transaction over a new pool and commit exactly the new release when a retry is allowed after pg_terminate_backend", async () => {
    const before = bench.current;
    const target = before === "A" ? "B" : "A";
    const run = bench.etl({ local: { retries: 1, retryDelayMs: 0 } }).import({ release: target, url: bench.url, backup: false });
    run.catch(() => undefined);
    await sql(bench.url, "SELECT pg_terminate_backend($1)", [await copyInFlight()]);
    const report = await run;
    expect(report.outcome).toBe("committed");
    bench.current = target;
    const after = await bench.inspect();
    expect(after.diff).toEqual([]);
    expect(after.state).toBe(target);
    expect(after.clean).toBe(true);
  });
});
