/**
 * The fault tests' config (see test/faults/support/fault.config.ts) whose Prisma client sends
 * its own process a real signal (SIGNAL_AT_COMMIT=SIGINT|SIGTERM) at the commit safe point:
 * after the release's last check (the slow check, pg_sleep) passed, on the first query of the
 * "ledger" phase (the fingerprints the run would commit). That phase's own safe point has then
 * already gone by, so the next one is the commit gate's (decideCommit → stopIfAsked "commit").
 */
import { PrismaClient } from "../../etl/generated/prisma/client.js";
import { defineConfig } from "../../src/config/define-config.js";
import { faultConfig } from "../faults/support/fault-config.js";

const signal = process.env.SIGNAL_AT_COMMIT as NodeJS.Signals | undefined;

const base = faultConfig({
  releasesDir: process.env.FAULT_RELEASES_DIR ?? "",
  backupDir: process.env.FAULT_BACKUP_DIR ?? "",
  environments: process.env.FAULT_ENVIRONMENTS ? JSON.parse(process.env.FAULT_ENVIRONMENTS) : {},
  batchSize: process.env.FAULT_BATCH_SIZE ? Number(process.env.FAULT_BATCH_SIZE) : undefined,
  checkSleepMs: process.env.FAULT_CHECK_SLEEP_MS ? Number(process.env.FAULT_CHECK_SLEEP_MS) : undefined,
});

export default defineConfig({
  ...base,
  client: ({ adapter }) => {
    const client = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
    let checked = false;
    let sent = false;
    client.$on("query", (e) => {
      if (!signal || sent) return;
      if (e.query.includes("pg_sleep")) checked = true;
      else if (checked && e.query.includes("generate_series(0,")) {
        sent = true;
        process.stderr.write(`${JSON.stringify({ msg: "test: signal at commit", signal })}\n`);
        process.kill(process.pid, signal);
      }
    });
    return client;
  },
});
