import type { Logger } from "pino";
import { refusedUpFront } from "../commands/import.js";
import type { LoadedConfig } from "../config/load.js";
import { type ReleaseConfig, releaseConfigSchema } from "../config/schema.js";
import type { TxLike } from "../db/prisma-like.js";
import { ConfigError, EtlError } from "../errors.js";
import type { RunReport } from "../reporting/report.js";
import { type ImportOptions, resolveRun } from "../runner/plan.js";
import { runRelease } from "../runner/run.js";
import type { StepFn } from "./types.js";

/** One named part of an existing ETL. */
export interface WrapStep<Tx = TxLike> {
  name: string;
  run: StepFn<Tx>;
  /** More tables (or models) this part writes, on top of the run's `writes`. */
  writes?: string[];
}

/**
 * `etl.run(…)`: an existing ETL function (or several, run in order) as one atomic unit, with
 * no release files: backup of `writes`, one transaction, the checks, commit once, or roll
 * back and prove it.
 */
export interface RunOptions<Tx = TxLike> extends Omit<ImportOptions, "release" | "strategy" | "expectPlan" | "redeploy"> {
  /** The run's name in the ledger, the backups and the logs (default `run`); not a configured release's. */
  name?: string;
  /** Tables (or Prisma models) the ETL writes: backed up, fingerprinted, proven and restorable. A write elsewhere rolls back. */
  writes: string[];
  /** The ETL: one function, or named steps run in order. */
  steps: StepFn<Tx> | WrapStep<Tx>[];
  /** The release checks (`{ name, sql }` or `{ name, run }`), run after the steps, before COMMIT. */
  checks?: ReleaseConfig["checks"];
}

const NAME = /^[A-Za-z0-9._-]+$/;

function usage(message: string): EtlError {
  return new EtlError("USAGE", message, { step: "config" });
}

/** The release an `etl.run` amounts to: no tables, its steps (each writing the run's `writes` and its own), its checks. */
export function wrappedRelease(config: LoadedConfig, opts: RunOptions<never>): { name: string; release: ReleaseConfig } {
  const name = opts.name ?? "run";
  if (!NAME.test(name) || name === "." || name === "..") throw usage(`etl.run name "${name}": use letters, digits, . _ -`);
  if (config.releases[name]) throw usage(`etl.run name "${name}" is a release of the config: give the run a name of its own`);
  if (!opts.writes.length)
    throw usage("etl.run needs writes: the tables (or models) your ETL writes, so that they are backed up and proven");
  const steps = typeof opts.steps === "function" ? [{ name, run: opts.steps }] : opts.steps;
  if (!steps.length) throw usage("etl.run needs at least one step");
  const parsed = releaseConfigSchema.safeParse({
    steps: steps.map((s) => ({ name: s.name, run: s.run, writes: [...new Set([...opts.writes, ...(s.writes ?? [])])] })),
    checks: opts.checks ?? [],
  });
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `etl.run ${i.path.join(".") || "(root)"}: ${i.message}`));
  return { name, release: parsed.data };
}

/**
 * Runs an existing ETL as one atomic unit (see {@link RunOptions}). Resolves with the report
 * on COMMIT; rejects with RunFailed otherwise (STEP_FAILED when the ETL threw).
 */
export async function runWrapped(config: LoadedConfig, opts: RunOptions<never>, log: Logger): Promise<RunReport> {
  const name = opts.name ?? "run";
  let plan: ReturnType<typeof resolveRun>;
  try {
    const wrapped = wrappedRelease(config, opts);
    plan = resolveRun({ ...config, releases: { ...config.releases, [name]: wrapped.release } }, { ...opts, release: name });
  } catch (e) {
    throw refusedUpFront(e, { release: name, env: opts.env }, log);
  }
  return runRelease(plan, log.child({ runId: plan.runId, release: name }));
}
