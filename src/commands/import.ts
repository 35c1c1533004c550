import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { chooseEnvironment, describeChoice } from "../config/environment-choice.js";
import type { LoadedConfig } from "../config/load.js";
import { EtlError } from "../errors.js";
import { emptyReport, type RunReport, RunFailed } from "../reporting/report.js";
import { type ImportOptions, resolveRun, type RunPlan } from "../runner/plan.js";
import { runRelease } from "../runner/run.js";

/**
 * `atomic-etl import <release>`: resolves the run (every option checked before anything
 * connects), then runs it. Resolves with the report on COMMIT; rejects with
 * {@link RunFailed} (error + report) otherwise, including when the run was refused up front.
 *
 * @example const report = await importRelease(config, { release: "league-2026", env: "staging" }, logger)
 */
export async function importRelease(config: LoadedConfig, opts: ImportOptions, log: Logger): Promise<RunReport> {
  let plan: ReturnType<typeof resolveRun>;
  try {
    plan = resolveRun(config, opts);
  } catch (e) {
    throw refusedUpFront(e, opts, log, "import", config);
  }
  return runRelease(plan, log.child({ runId: plan.runId, release: opts.release }));
}

/** A run refused before it had a plan: nothing was touched. */
export function refusedUpFront(
  raw: unknown,
  opts: { release: string; env?: string },
  log: Logger,
  mode: RunPlan["mode"] = "import",
  config?: LoadedConfig,
): unknown {
  if (!(raw instanceof EtlError)) return raw;
  const runId = randomUUID();
  const error = raw.with({ runId, data: "untouched", step: raw.step ?? "config" });
  log.error(
    { runId, release: opts.release, phase: "failed", code: error.code, step: error.step, data: error.data, durationMs: 0 },
    error.message,
  );
  const chosen = config ? environmentOf(config, opts.env) : null;
  const environment = chosen?.name ?? opts.env ?? process.env.ETL_ENV ?? "local";
  const environmentChosenBy = chosen ? describeChoice(chosen) : undefined;
  const report = {
    ...emptyReport({ mode, runId, release: opts.release, environment, environmentChosenBy, batchSize: 0, budgetMb: 0 }),
    outcome: "refused" as const,
  };
  return new RunFailed(error, { ...report, error: error.toJSON() });
}

/** The environment a refused run was for (detection included), or null when that is what was refused. */
function environmentOf(config: LoadedConfig, env: string | undefined) {
  try {
    return chooseEnvironment(config, env);
  } catch {
    return null;
  }
}
