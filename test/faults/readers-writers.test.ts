/**
 * pgbench readers and writers next to back-to-back imports: no reader ever sees a state that
 * is not one whole release, nobody gets an error, nothing deadlocks; every import commits or,
 * on a loaded machine, gives up within its lock budget (LOCK_TIMEOUT, database unchanged).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureState, stateDiff } from "./support/db-state.js";
import { type FaultBench, openBench, other } from "./support/fault-bench.js";
import { sql } from "./support/fault-cluster.js";
import { runPgbench } from "./support/pgbench-load.js";
import { SMALL } from "./support/release-fixture.js";
import { replaceStrategies } from "./support/strategies.js";

let bench: FaultBench;

beforeAll(async () => {
  bench = await openBench({ size: SMALL, batchSize: 5 });
  await sql(bench.url, "CREATE TABLE fault_audit (id bigserial PRIMARY KEY, note text NOT NULL, at timestamptz NOT NULL DEFAULT now())");
}, 180_000);
afterAll(() => bench?.close());

describe("readers and writers during imports", () => {
  it("should give pgbench readers only whole releases and writers no errors, without a deadlock", async () => {
    const seconds = 10;
    const teams = (v: "A" | "B") => bench.counts[v]["teams.json"] as number;
    const vars = {
      teams_a: teams("A"),
      teams_b: teams("B"),
      players_per_team: SMALL.players,
      teams_per_league: SMALL.teams,
    };
    const readers = runPgbench(bench.url, "readers.sql", { clients: 3, seconds, vars });
    const writers = runPgbench(bench.url, "writers.sql", { clients: 1, seconds, vars });
    const strategies = replaceStrategies();
    const failures: string[] = [];
    let imports = 0;
    let committed = 0;
    let lockBudgetSpent = 0;
    const until = Date.now() + (seconds - 1) * 1000;
    while (Date.now() < until) {
      const release = other(bench.current);
      try {
        // every other import is `direct`, whose TRUNCATE of all targets is the likeliest to deadlock
        const strategy = imports % 2 === 0 ? "direct" : strategies[(imports >> 1) % strategies.length];
        await bench.etl({ local: { retries: 0 } }).import({ release, url: bench.url, backup: false, strategy });
        bench.current = release;
        committed++;
      } catch (e) {
        const err = (e as { error?: { code: string; data: string; describe(): string } }).error;
        // The lock budget giving up behind a steady stream of readers is the documented outcome, not an error.
        if (err?.code === "LOCK_TIMEOUT" && err.data === "rolled back; database unchanged") lockBudgetSpent++;
        else failures.push(err?.describe() ?? String(e));
      }
      imports++;
    }
    const [r, w] = await Promise.all([readers, writers]);
    expect(failures).toEqual([]);
    expect(imports).toBeGreaterThan(3);
    expect(committed).toBeGreaterThan(lockBudgetSpent > 0 ? 0 : 3);
    expect({ code: r.code, failed: r.failed, stderr: r.stderr }).toEqual({ code: 0, failed: 0, stderr: "" });
    expect({ code: w.code, failed: w.failed, stderr: w.stderr }).toEqual({ code: 0, failed: 0, stderr: "" });
    expect(r.processed).toBeGreaterThan(0);
    expect(w.processed).toBeGreaterThan(0);
    expect(stateDiff(await captureState(bench.url), bench.states[bench.current])).toEqual([]);
  }, 120_000);
});
