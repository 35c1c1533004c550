/**
 * A run of the library in its own process, for fault tests that need a precise kill point.
 * Like the CLI it logs JSON lines on stderr; its hooks add a "batch" line per batch and can
 * SIGKILL the process itself (FAULT_SELF_KILL), e.g. a few ms into the next batch's INSERT
 * or a few event-loop turns after the transaction callback returned (COMMIT on the wire).
 *
 *   FAULT_RELEASE=A FAULT_SELF_KILL='{"at":"batch","table":"players","batch":2,"delayMs":1}' node --import tsx etl-driver.ts
 */
import { loadConfig } from "../../../src/config/load.js";
import type { StrategyName } from "../../../src/config/schema.js";
import { AtomicEtl, RunFailed } from "../../../src/atomic-etl.js";
import { createLogger } from "../../../src/reporting/logger.js";
import { FAULT_CONFIG } from "./paths.js";

export type SelfKill =
  | { at: "batch"; table: string; batch: number; delayMs: number }
  /** After beforeCommit: `hops` setImmediate turns, then `delayMs`. hops = -1: inside the hook (before COMMIT). */
  | { at: "commit"; hops: number; delayMs: number };

const plan = process.env.FAULT_SELF_KILL ? (JSON.parse(process.env.FAULT_SELF_KILL) as SelfKill) : null;
const die = () => process.kill(process.pid, "SIGKILL");
const later = (hops: number, delayMs: number) => {
  const step = (n: number) => (n <= 0 ? (delayMs > 0 ? setTimeout(die, delayMs) : die()) : setImmediate(() => step(n - 1)));
  step(hops);
};

const log = createLogger({ pretty: false });
const etl = new AtomicEtl(await loadConfig(FAULT_CONFIG), { logger: log });
try {
  const report = await etl.import({
    release: process.env.FAULT_RELEASE ?? "A",
    strategy: (process.env.FAULT_STRATEGY as StrategyName | undefined) ?? undefined,
    hooks: {
      afterBatch: ({ table, batch }) => {
        log.info({ phase: "batch", table, batch }, "batch");
        if (plan?.at === "batch" && plan.table === table && plan.batch === batch) later(0, plan.delayMs);
      },
      beforeCommit: () => {
        if (plan?.at !== "commit") return;
        if (plan.hops < 0) die();
        else later(plan.hops, plan.delayMs);
      },
    },
  });
  process.stdout.write(`${JSON.stringify(report)}\n`);
} catch (e) {
  if (e instanceof RunFailed) {
    process.stdout.write(`${JSON.stringify(e.report)}\n`);
    process.exitCode = e.exitCode;
  } else throw e;
}
