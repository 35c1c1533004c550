import type { Logger } from "pino";
import { importRelease } from "./commands/import.js";
import { planRelease } from "./commands/plan.js";
import { type LoadedConfig, parseConfig } from "./config/load.js";
import type { ConfigInput } from "./config/schema.js";
import { silentLogger } from "./reporting/logger.js";
import type { RunReport } from "./reporting/report.js";
import type { ImportOptions, PlanOptions } from "./runner/plan.js";

export type { ImportOptions, PlanOptions, RunHooks } from "./runner/plan.js";
export { RunFailed } from "./reporting/report.js";

/**
 * The library's entry point: one release, one transaction. Lock → preflight → backup →
 * transaction (clear, stream, validate, apply) → commit once; or roll back and prove what
 * happened to the data.
 *
 * @example
 * const etl = new AtomicEtl(config, { logger });
 * const report = await etl.import({ release: "league-2026", env: "staging" });
 */
export class AtomicEtl {
  readonly config: LoadedConfig;
  private readonly log: Logger;

  constructor(config: LoadedConfig | ConfigInput, opts: { logger?: Logger; root?: string } = {}) {
    this.config = "root" in config ? (config as LoadedConfig) : parseConfig(config, opts.root ?? process.cwd());
    this.log = opts.logger ?? silentLogger();
  }

  /** Imports a release. Resolves with the report on COMMIT; rejects with {@link RunFailed} otherwise. */
  import(opts: ImportOptions): Promise<RunReport> {
    return importRelease(this.config, opts, this.log);
  }

  /** Plans a release: the import's path, ended in ROLLBACK. Resolves with the plan (outcome `planned`); rejects with {@link RunFailed} when it cannot be deployed. */
  plan(opts: PlanOptions): Promise<RunReport> {
    return planRelease(this.config, opts, this.log);
  }
}
