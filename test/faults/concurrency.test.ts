/**
 * Two runs against one database: exactly one runs, the other fails fast naming the holder
 * (exit 7), or with --wait queues behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunFailed } from "../../src/atomic-etl.js";
import type { RunReport } from "../../src/reporting/report.js";
import { useTestDatabase } from "../fixtures/core/kit.js";
import { captureState, stateDiff } from "./support/db-state.js";
import { type FaultBench, openBench, other } from "./support/fault-bench.js";
import { sleep, sql } from "./support/fault-cluster.js";
import { FAULT_CONFIG } from "./support/paths.js";
import { SMALL } from "./support/release-fixture.js";
import { spawnCli } from "./support/spawn-run.js";

/** The bench's database for the file (the bench drops it on close; the fixture's drop is then a no-op). */
const database = useTestDatabase({ seed: false, scope: "suite" });
let bench: FaultBench;

beforeAll(async () => {
  bench = await openBench({ size: SMALL, batchSize: 5, database });
}, 180_000);
afterAll(() => bench?.close());

/** An in-process run that holds the lock, paused after its first batch until `resume()`. */
function holdingRun(release: "A" | "B") {
  let resume!: () => void;
  let holding!: () => void;
  const resumed = new Promise<void>((r) => (resume = r));
  const held = new Promise<void>((r) => (holding = r));
  const done: Promise<RunReport> = bench.etl().import({
    release,
    url: bench.url,
    backup: false,
    hooks: {
      afterBatch: async ({ batch, table }) => {
        if (batch !== 1 || table !== "leagues") return;
        holding();
        await resumed;
      },
    },
  });
  return { held, resume, done };
}

describe("two runs at once", () => {
  it("should run exactly one of two imports started together; the other fails fast naming the holder", async () => {
    const target = other(bench.current);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const start = () =>
      bench
        .etl()
        .import({ release: target, url: bench.url, backup: false, hooks: { afterBatch: () => gate } })
        .finally(() => release());
    const results = await Promise.allSettled([start(), start()]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.flatMap((r) => (r.status === "rejected" ? [r.reason as RunFailed] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const e = lost[0] as RunFailed;
    expect(e).toBeInstanceOf(RunFailed);
    expect(e.error.code).toBe("LOCK_HELD");
    expect(e.error.message).toMatch(
      /^another run holds the lock: process pid \d+ on \S+, PostgreSQL backend pid \d+ \(client 127\.0\.0\.1:\d+, .+, connected .+\)$/,
    );
    expect(e.error.data).toBe("untouched");
    expect(e.exitCode).toBe(7);
    bench.current = target;
    expect(stateDiff(await captureState(bench.url), bench.states[target])).toEqual([]);
  });

  it("should make a CLI run fail fast with exit code 7 while another run holds the lock", async () => {
    const holder = holdingRun(other(bench.current));
    await holder.held;
    const cli = await spawnCli(["import", bench.current, "--config", FAULT_CONFIG, "--no-backup"], bench.runEnv()).done;
    holder.resume();
    await holder.done;
    bench.current = other(bench.current);
    expect(cli.code).toBe(7);
    expect(cli.stderr).toMatch(
      /LOCK_HELD in lock: another run holds the lock: process pid \d+ on \S+, PostgreSQL backend pid \d+ \(client 127\.0\.0\.1:\d+, atomic-etl:lock:[0-9a-f]{8} pid \d+ on \S+, connected [^)]+\)/,
    );
    expect(stateDiff(await captureState(bench.url), bench.states[bench.current])).toEqual([]);
  });

  it("should queue a CLI run with --wait behind the holder, then run it", async () => {
    const first = other(bench.current);
    const holder = holdingRun(first);
    await holder.held;
    const second = other(first);
    const cli = spawnCli(["import", second, "--config", FAULT_CONFIG, "--no-backup", "--wait", "120"], bench.runEnv());
    // the CLI is queued when its advisory lock request shows up as not granted
    for (let i = 0; ; i++) {
      const [w] = await sql<{ n: number }>(
        bench.url,
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      );
      if ((w?.n ?? 0) > 0) break;
      if (i > 600) throw new Error(`the --wait run never queued for the lock:\n${cli.lines.map((l) => l.raw).join("\n")}`);
      await sleep(100);
    }
    holder.resume();
    expect((await holder.done).outcome).toBe("committed");
    const r = await cli.done;
    expect(r.code, r.stderr).toBe(0);
    // it ran after the holder: the database holds its release
    bench.current = second;
    expect(stateDiff(await captureState(bench.url), bench.states[second])).toEqual([]);
  });

  it("should give up with LOCK_HELD when --wait runs out before the holder finishes", async () => {
    const holder = holdingRun(other(bench.current));
    await holder.held;
    const r = await spawnCli(["import", bench.current, "--config", FAULT_CONFIG, "--no-backup", "--wait", "1"], bench.runEnv()).done;
    holder.resume();
    await holder.done;
    bench.current = other(bench.current);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("another run holds the lock");
  });
});
