/**
 * The reduced fault trials that run in `npm test`: a few kill -9 trials, server crashes and
 * terminated backends on a private cluster (FAULT_TRIALS scales the kill trials). The full
 * suite is trials.faults.ts (`npm run test:faults`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultBench, openBench } from "./support/fault-bench.js";
import { crashSpec, terminateSpec } from "./support/fault-specs.js";
import { runInProcessTrials } from "./support/inprocess-trials.js";
import { runKillTrials } from "./support/kill-trials.js";
import { MEDIUM } from "./support/release-fixture.js";
import { faultSeed, seededRandom, trialCount } from "./support/seeded-random.js";
import { printSummary, type SuiteSummary } from "./support/trial-report.js";

const started = Date.now();
const summary: SuiteSummary = { durationMs: 0 };
let bench: FaultBench;

beforeAll(async () => {
  bench = await openBench({ size: MEDIUM, batchSize: 250, checkSleepMs: 300 });
}, 180_000);

afterAll(async () => {
  summary.durationMs = Date.now() - started;
  await printSummary("faults-reduced", summary);
  await bench?.close();
});

describe("faults, reduced", () => {
  it("should leave exactly the old or the new release after kill -9 at random points", async () => {
    const s = await runKillTrials(bench, seededRandom(faultSeed("kill -9")), trialCount(3));
    summary.kill = s;
    expect(s.partialStates).toBe(0);
    expect(s.afterWithoutCommit).toBe(0);
    expect(s.ledger.disagreed).toBe(0);
    expect(s.problems).toEqual([]);
  }, 600_000);

  it("should keep the ledger and the data in agreement after kill -9 in the commit gate: before and right after the ledger row, and during COMMIT", async () => {
    const s = await runKillTrials(bench, seededRandom(faultSeed("kill -9 ledger")), 4, console.log, [
      "ledger",
      "ledger-row",
      "commit",
      "commit-self",
    ]);
    summary.ledgerKills = s;
    expect(s.byKind).toEqual({ ledger: 1, "ledger-row": 1, commit: 1, "commit-self": 1 });
    expect(s.partialStates).toBe(0);
    expect(s.ledger).toMatchObject({ checked: 4, disagreed: 0 });
    expect(s.problems).toEqual([]);
  }, 600_000);

  it("should leave the old release and an aborted transaction after an immediate server stop", async () => {
    const s = await runInProcessTrials(bench, seededRandom(faultSeed("server crash")), 2, crashSpec);
    summary.crash = s;
    expect(s.partialStates).toBe(0);
    expect(s.problems).toEqual([]);
  }, 300_000);

  it("should fail with CONNECTION_LOST and leave the old release when the run's backend is terminated", async () => {
    const s = await runInProcessTrials(bench, seededRandom(faultSeed("pg_terminate_backend")), 2, terminateSpec);
    summary.terminate = s;
    expect(s.partialStates).toBe(0);
    expect(s.problems).toEqual([]);
  }, 300_000);
});
