/**
 * The full fault suite (`npm run test:faults`): ≥ 66 kill -9 trials (6 per kill point, the
 * ledger's included), ≥ 17 immediate server
 * stops and ≥ 14 terminated backends, on a private cluster, seeded (FAULT_SEED replays a
 * schedule; FAULT_TRIALS sets the number of kill trials). A reduced copy runs in `npm test`
 * (trials.trials.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultBench, openBench } from "./support/fault-bench.js";
import { crashSpec, terminateSpec } from "./support/fault-specs.js";
import { FAULT_POINTS, type InProcessSummary, runInProcessTrials } from "./support/inprocess-trials.js";
import { KILL_KINDS, type KillSummary, runKillTrials } from "./support/kill-trials.js";
import { MEDIUM } from "./support/release-fixture.js";
import { faultSeed, seededRandom, trialCount } from "./support/seeded-random.js";
import { printSummary, type SuiteSummary } from "./support/trial-report.js";

const KILLS = Math.max(trialCount(66), 1);
const CRASHES = Math.max(Math.ceil(KILLS / 4), 14);
const started = Date.now();
const summary: SuiteSummary = { durationMs: 0 };
let bench: FaultBench;

beforeAll(async () => {
  bench = await openBench({ size: MEDIUM, batchSize: 250, checkSleepMs: 300 });
});

afterAll(async () => {
  summary.durationMs = Date.now() - started;
  await printSummary("faults", summary);
  await bench?.close();
});

describe("faults, full size", () => {
  it(`should leave exactly the old or the new release after each of ${KILLS} kill -9 trials, never a partial state`, async () => {
    const s: KillSummary = await runKillTrials(bench, seededRandom(faultSeed("kill -9")), KILLS);
    summary.kill = s;
    expect(s.trials).toBe(KILLS);
    expect(s.partialStates).toBe(0);
    expect(s.afterWithoutCommit).toBe(0);
    expect(s.ledger.disagreed).toBe(0);
    expect(s.problems).toEqual([]);
    if (KILLS >= KILL_KINDS.length * 5) {
      for (const k of KILL_KINDS) expect(s.byKind[k], k).toBeGreaterThanOrEqual(5);
      for (const g of ["preflight", "backup", "load", "validation", "final phase", "commit"])
        expect(s.groupsHit[g] ?? 0, g).toBeGreaterThan(0);
    }
  });

  it(`should leave the old release, an aborted transaction and a working next run after each of ${CRASHES} immediate server stops`, async () => {
    const s: InProcessSummary = await runInProcessTrials(bench, seededRandom(faultSeed("server crash")), CRASHES, crashSpec);
    summary.crash = s;
    expect(s.partialStates).toBe(0);
    expect(s.ledger.disagreed).toBe(0);
    expect(s.problems).toEqual([]);
    // round robin from a random offset: every point gets at least its whole share
    for (const p of FAULT_POINTS) expect(s.byPoint[p], p).toBeGreaterThanOrEqual(Math.floor(CRASHES / FAULT_POINTS.length));
  });

  it(`should fail with CONNECTION_LOST and leave the old release after each of ${CRASHES} terminated backends`, async () => {
    const s: InProcessSummary = await runInProcessTrials(bench, seededRandom(faultSeed("pg_terminate_backend")), CRASHES, terminateSpec);
    summary.terminate = s;
    expect(s.partialStates).toBe(0);
    expect(s.ledger.disagreed).toBe(0);
    expect(s.problems).toEqual([]);
  });
});
