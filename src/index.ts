/**
 * atomic-etl: deploy JSON data releases into PostgreSQL through Prisma as one atomic unit.
 * Public surface only.
 */
export { AtomicEtl, type ImportOptions, type PlanOptions, RunFailed, type RunHooks } from "./atomic-etl.js";
export type { RunReport, TableReport, Outcome } from "./reporting/report.js";
export type { PlannedTable, ChangeCounts, RowSample } from "./plan/planned-table.js";
export type { PlanSection } from "./plan/plan-section.js";
export { history, type History, type HistoryOptions } from "./commands/history.js";
export { status, type Status, type ReleaseStatus, type TableStatus } from "./commands/status.js";
export type { LedgerRow, LedgerTable } from "./ledger/ledger-row.js";
export { recordRestore, type RestoreRecord } from "./ledger/record.js";
export type { RunWarning } from "./runner/settle.js";
export { defineConfig } from "./config/define-config.js";
export type { StepContext, StepFn, StepLoadResult, StepRecord, TransformContext, TransformFn } from "./steps/types.js";
export type { TransactionClientOf, TypedConfig, TypedRelease, TypedStep } from "./steps/typed-config.js";
export type { RunOptions, WrapStep } from "./steps/wrap.js";
export { loadConfig, parseConfig, type LoadedConfig } from "./config/load.js";
export type { ConfigInput, Config, ReleaseConfig, TableConfig, CheckConfig } from "./config/schema.js";
export { ENVIRONMENT_DEFAULTS, type EnvironmentName, type EnvironmentSettings } from "./config/environments.js";
export { DEFAULT_DETECT_RULES, type DetectRule } from "./config/environment-detect.js";
export { chooseEnvironment, resolveEnvironment, type ChosenEnvironment } from "./config/environment-choice.js";
export { EtlError, ConfigError, ERROR_CODES, type ErrorCode, type Step, type DataOutcome } from "./errors.js";
export type { TxLike, PrismaClientLike } from "./db/prisma-like.js";
export { fingerprintTable, type Fingerprint } from "./db/fingerprint.js";
export { listBackups } from "./backup/retention.js";
export { restoreById } from "./commands/restore.js";
export { quoteIdent } from "./sql/quote.js";
export { deriveTableSchema } from "./validation/table-checks.js";
export { exportRelease, type ExportOptions } from "./commands/export.js";
export { sample, type SampleOptions } from "./commands/sample.js";
export type { ReleaseReport } from "./sample/make-release.js";
export type { SampleConfig, SampleConfigInput, MaskRule, MaskFunction, MaskContext } from "./config/samples-schema.js";
export { resolveRelease } from "./release/resolve-release.js";
export type { ReleaseManifest } from "./release/manifest.js";
