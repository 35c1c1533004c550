import { defineConfig } from "vitest/config";

/**
 * `npm run test:faults`: the full fault suite. Runs the full-size trial files
 * (test/faults/*.faults.ts: ≥ 50 kill -9 trials, ≥ 10 server crashes, …) plus every fault and
 * hostile-input test, one file at a time so that timed kills are not skewed by the other
 * files. The reduced trial file (*.trials.test.ts) that `npm test` runs is left out.
 * FAULT_SEED replays a schedule; FAULT_TRIALS scales it.
 */
export default defineConfig({
  test: {
    globalSetup: ["test/global-setup.ts"],
    include: ["test/faults/**/*.faults.ts", "test/faults/**/*.test.ts", "test/hostile/**/*.test.ts"],
    exclude: ["**/node_modules/**", "test/faults/**/*.trials.test.ts"],
    testTimeout: 60 * 60_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: false,
    reporters: ["default", ["json", { outputFile: ".tmp/vitest-faults-results.json" }]],
  },
});
