import { z } from "zod";

/** The built-in environments, weakest first; every named environment `extends` one of them. */
export const ENVIRONMENT_NAMES = ["local", "staging", "production"] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** How strict a base is: detection and `--env` may only keep or raise it, never lower it. */
export const ENVIRONMENT_RANK: Record<EnvironmentName, number> = { local: 0, staging: 1, production: 2 };

/** An environment's name: it is part of backup ids and ledger rows, so letters, digits, `_` and `-`. */
export const environmentNameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, "environment names start with a letter and use letters, digits, _ and - (at most 63)");

export const backupModes = ["tables", "full", "off"] as const;

/** Per-environment settings; every field has a measured default (see README, "Benchmarks"). */
export const environmentSettingsSchema = z.strictObject({
  /** Rows per INSERT batch. */
  batchSize: z.number().int().min(1).max(1_000_000),
  /** A batch also closes at this many bytes of JSON text, so wide rows make smaller batches. */
  maxBatchBytes: z.number().int().min(1024),
  /**
   * Resident memory the import aims to stay under, in MB: above it, a full GC runs between
   * batches (0 leaves collection to V8). See src/runner/memory-budget.ts.
   */
  memoryBudgetMb: z.number().int().min(0),
  /** Prisma interactive-transaction timeout for the whole load. */
  transactionTimeoutMs: z.number().int().min(1_000),
  /** How long to wait for a pooled connection to open the transaction. */
  maxWaitMs: z.number().int().min(100),
  /** Server-side `statement_timeout` inside the transaction (0 = none). */
  statementTimeoutMs: z.number().int().min(0),
  /** Server-side `lock_timeout` inside the transaction (0 = none). */
  lockTimeoutMs: z.number().int().min(0),
  /** What to dump before the load. */
  backup: z.enum(backupModes),
  /** May `--no-backup` be used here? */
  allowNoBackup: z.boolean(),
  /** Newest backups kept per environment. */
  keepBackups: z.number().int().min(1),
  /** Refuse to run without `--force`. */
  requireForce: z.boolean(),
  /** When a staged strategy cannot create its staging tables (no TEMP privilege, out of space): load `direct` instead, or fail. */
  fallback: z.enum(["direct", "fail"]),
  /** Final phase: `lock_timeout` of each attempt to take the targets' locks. */
  finalLockTimeoutMs: z.number().int().min(1),
  /** Final phase: attempts after the first before the run fails with LOCK_TIMEOUT. */
  finalLockRetries: z.number().int().min(0),
  /** Final phase: pause before the first retry; doubles each retry. */
  finalLockBackoffMs: z.number().int().min(0),
  /**
   * Re-runs of the whole transaction when the connection drops (or the server restarts)
   * before COMMIT was sent; the backup already taken is reused. Never after COMMIT was sent.
   */
  retries: z.number().int().min(0).max(10),
  /** Backoff base between those re-runs (exponential, with jitter). */
  retryDelayMs: z.number().int().min(0),
});

export type EnvironmentSettings = z.infer<typeof environmentSettingsSchema>;

const BASE: EnvironmentSettings = {
  // Measured at 1M rows (README "Benchmarks"): 2.5k-20k rows per batch load within noise of
  // each other; 5k keeps peak RSS under the 256 MB budget, 20k does not (314 MB).
  batchSize: 5_000,
  // ~5,000 rows of 400 bytes; only wider rows make batches smaller than batchSize
  maxBatchBytes: 2 * 1024 * 1024,
  memoryBudgetMb: 256,
  transactionTimeoutMs: 30 * 60_000,
  maxWaitMs: 10_000,
  statementTimeoutMs: 10 * 60_000,
  lockTimeoutMs: 30_000,
  backup: "tables",
  allowNoBackup: true,
  keepBackups: 5,
  requireForce: false,
  fallback: "direct",
  // below PostgreSQL's deadlock_timeout (1 s): a run waiting for its locks gives up (and
  // retries) before a reader it blocks could be picked as a deadlock victim
  finalLockTimeoutMs: 500,
  finalLockRetries: 3,
  finalLockBackoffMs: 500,
  retries: 2,
  retryDelayMs: 1_000,
};

/**
 * One entry of the config's `environments`: settings overrides, plus for a named environment
 * (`railway_staging`, `eu-production`) the base it `extends` and the variable of its URL.
 */
export const environmentEntrySchema = environmentSettingsSchema.partial().extend({
  /** The built-in environment whose defaults (and config overrides) this one starts from; required for a named environment. */
  extends: z.enum(ENVIRONMENT_NAMES).optional(),
  /** The variable holding this environment's connection URL (wins over the top-level `databaseUrlEnv`). */
  databaseUrlEnv: z.string().min(1).optional(),
});
export type EnvironmentEntry = z.infer<typeof environmentEntrySchema>;

/** Defaults per environment; config values override them field by field. */
export const ENVIRONMENT_DEFAULTS: Record<EnvironmentName, EnvironmentSettings> = {
  local: { ...BASE },
  staging: { ...BASE, keepBackups: 10 },
  production: {
    ...BASE,
    transactionTimeoutMs: 60 * 60_000,
    lockTimeoutMs: 10_000,
    allowNoBackup: false,
    keepBackups: 30,
    requireForce: true,
    fallback: "fail",
    // One retry rides out a failover or a dropped proxy connection; more would hold the run
    // lock and keep loading a struggling primary when a person should look instead.
    retries: 1,
  },
};

/**
 * `--env`, then `ETL_ENV`, then `local`: the source of a read (`sample --from`), where no
 * detection applies. An import's or restore's target is chosen by `chooseEnvironment`
 * (src/config/environment-choice.ts). Never guessed from hostnames.
 */
export function pickEnvironmentName(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.ETL_ENV ?? "local";
}
