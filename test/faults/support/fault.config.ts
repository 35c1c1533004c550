/**
 * Config file for CLI runs in the fault tests (`--config test/faults/support/fault.config.ts`).
 * Everything that varies per test comes from the environment of the spawned process.
 */
import { defineConfig } from "../../../src/config/define-config.js";
import { faultConfig } from "./fault-config.js";

export default defineConfig(
  faultConfig({
    releasesDir: process.env.FAULT_RELEASES_DIR ?? "",
    backupDir: process.env.FAULT_BACKUP_DIR ?? "",
    environments: process.env.FAULT_ENVIRONMENTS ? JSON.parse(process.env.FAULT_ENVIRONMENTS) : {},
    batchSize: process.env.FAULT_BATCH_SIZE ? Number(process.env.FAULT_BATCH_SIZE) : undefined,
    checkSleepMs: process.env.FAULT_CHECK_SLEEP_MS ? Number(process.env.FAULT_CHECK_SLEEP_MS) : undefined,
  }),
);
