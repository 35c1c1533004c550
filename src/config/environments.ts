import { z } from "zod";

export const ENVIRONMENT_NAMES = ["local", "staging", "production"] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

export const backupModes = ["tables", "full", "off"] as const;

/** Per-environment settings; every field has a measured default (see README, "Benchmarks"). */
export const environmentSettingsSchema = z.strictObject({
  /** Rows per INSERT batch. */
  batchSize: z.number().int().min(1).max(1_000_000),
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
});

export type EnvironmentSettings = z.infer<typeof environmentSettingsSchema>;

const BASE: EnvironmentSettings = {
  batchSize: 5_000,
  transactionTimeoutMs: 30 * 60_000,
  maxWaitMs: 10_000,
  statementTimeoutMs: 10 * 60_000,
  lockTimeoutMs: 30_000,
  backup: "tables",
  allowNoBackup: true,
  keepBackups: 5,
  requireForce: false,
};

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
  },
};

/** `--env`, then `ETL_ENV`, then `local`. Never guessed from hostnames. */
export function pickEnvironmentName(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.ETL_ENV ?? "local";
}
