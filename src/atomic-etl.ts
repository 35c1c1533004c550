import type { Logger } from "pino";
import { importRelease } from "./commands/import.js";
import { planRelease } from "./commands/plan.js";
import { type LoadedConfig, parseConfig } from "./config/load.js";
import type { ConfigInput } from "./config/schema.js";
import type { PrismaClientLike } from "./db/prisma-like.js";
import { silentLogger } from "./reporting/logger.js";
import type { RunReport } from "./reporting/report.js";
import type { ImportOptions, PlanOptions } from "./runner/plan.js";
import type { TransactionClientOf, TypedConfig } from "./steps/typed-config.js";
import { type RunOptions, runWrapped } from "./steps/wrap.js";

export type { ImportOptions, PlanOptions, RunHooks } from "./runner/plan.js";
export { RunFailed } from "./reporting/report.js";
export type { RunOptions, WrapStep } from "./steps/wrap.js";

/**
 * The library's entry point: one release, one transaction. Lock → preflight → backup →
 * transaction (clear, stream, validate, apply) → commit once; or roll back and prove what
 * happened to the data.
 *
 * `C` is your Prisma client's type: read from a {@link defineConfig} config, or given
 * (`new AtomicEtl<PrismaClient>(await loadConfig())`), it types the `tx` of {@link run}'s steps.
 *
 * @example
 * const etl = new AtomicEtl(config, { logger });
 * const report = await etl.import({ release: "league-2026", env: "staging" });
 */
export class AtomicEtl<C extends PrismaClientLike = PrismaClientLike> {
  readonly config: LoadedConfig;
  private readonly log: Logger;

  constructor(config: LoadedConfig | ConfigInput | TypedConfig<C>, opts: { logger?: Logger; root?: string } = {}) {
    this.config = "root" in config ? (config as LoadedConfig) : parseConfig(config, opts.root ?? process.cwd());
    this.log = opts.logger ?? silentLogger();
  }

  /** Imports a release. Resolves with the report on COMMIT; rejects with {@link RunFailed} otherwise. */
  import(opts: ImportOptions): Promise<RunReport> {
    return importRelease(this.config, opts, this.log);
  }

  /**
   * Wraps an existing ETL with no release files: backup of `writes`, one transaction (the
   * steps' `tx`), the checks, commit once, or roll back and prove it. Resolves with the report
   * on COMMIT; rejects with {@link RunFailed} otherwise (STEP_FAILED when a step threw).
   *
   * @example
   * await etl.run({ env: "staging", writes: ["Player"], steps: async ({ tx }) => { await legacyEtl(tx) } });
   */
  run(opts: RunOptions<TransactionClientOf<C>>): Promise<RunReport> {
    return runWrapped(this.config, opts, this.log);
  }

  /** Plans a release: the import's path, ended in ROLLBACK. Resolves with the plan (outcome `planned`); rejects with {@link RunFailed} when it cannot be deployed. */
  plan(opts: PlanOptions): Promise<RunReport> {
    return planRelease(this.config, opts, this.log);
  }
}
