/**
 * Partition trials, full (`npm run test:faults`): kill -9 of imports into the schema in the wild.
 * The reduced trials (partitions.trials.test.ts) run in `npm test`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePartitionBench, openPartitionBench, runPartitionTrials } from "./support/partition-trials.js";
import { faultSeed, seededRandom, trialCount } from "./support/seeded-random.js";

let bench: Awaited<ReturnType<typeof openPartitionBench>>;
beforeAll(async () => {
  bench = await openPartitionBench();
}, 180_000);
afterAll(async () => bench && closePartitionBench(bench));

describe("faults on partitioned tables", () => {
  it("should leave exactly the old or the new release in partitioned tables after kill -9 at random points", async () => {
    const s = await runPartitionTrials(bench, seededRandom(faultSeed("partitions kill -9")), trialCount(16));
    console.log(`[partition trials] ${JSON.stringify({ seed: s.seed, trials: s.trials, outcomes: s.outcomes, byStrategy: s.byStrategy })}`);
    expect(s.problems).toEqual([]);
    expect(s.partial).toBe(0);
  }, 600_000);
});
