/**
 * Partition trials, reduced (`npm test`): kill -9 of imports into the schema in the wild.
 * The full suite runs more of them (partitions.faults.ts, `npm run test:faults`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePartitionBench, openPartitionBench, runPartitionTrials } from "./support/partition-trials.js";
import { faultSeed, seededRandom, trialCount } from "./support/seeded-random.js";

let bench: Awaited<ReturnType<typeof openPartitionBench>>;
beforeAll(async () => {
  bench = await openPartitionBench();
}, 180_000);
afterAll(async () => bench && closePartitionBench(bench));

describe("faults on partitioned tables, reduced", () => {
  it("should leave exactly the old or the new release in partitioned tables after kill -9 at random points", async () => {
    const s = await runPartitionTrials(bench, seededRandom(faultSeed("partitions kill -9")), trialCount(3));
    console.log(`[partition trials] ${JSON.stringify({ seed: s.seed, trials: s.trials, outcomes: s.outcomes, byStrategy: s.byStrategy })}`);
    expect(s.problems).toEqual([]);
    expect(s.partial).toBe(0);
  }, 600_000);
});
