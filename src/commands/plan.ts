import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import type { RunReport } from "../reporting/report.js";
import { type PlanOptions, resolveRun } from "../runner/plan.js";
import { runRelease } from "../runner/run.js";
import { refusedUpFront } from "./import.js";

/**
 * `atomic-etl plan <release>`: the import's own path (reading, validation, strategies,
 * staged checks, the release's checks) into TEMP staging, diffed against the targets, ended
 * by a ROLLBACK. Resolves with the report (outcome `planned`, its plan hash and per-table
 * changes) when the release can be deployed; rejects with RunFailed otherwise. Writes
 * nothing, takes no lock a reader or writer waits on, and runs in production without --force.
 *
 * @example const plan = await planRelease(config, { release: "league-2026", env: "production" }, logger)
 */
export async function planRelease(config: LoadedConfig, opts: PlanOptions, log: Logger): Promise<RunReport> {
  let plan: ReturnType<typeof resolveRun>;
  try {
    plan = resolveRun(config, opts, "plan");
  } catch (e) {
    throw refusedUpFront(e, opts, log, "plan", config);
  }
  return runRelease(plan, log.child({ runId: plan.runId, release: opts.release, mode: "plan" }));
}
