import type { DatabaseIdentity } from "../db/database-identity.js";
import { describeChoice } from "../config/environment-choice.js";
import { EtlError } from "../errors.js";
import type { PlanSection } from "../plan/plan-section.js";
import type { PlannedTable } from "../plan/planned-table.js";
import type { RunPlan } from "../runner/plan.js";
import type { RetryRecord } from "../runner/retry.js";
import type { RunWarning } from "../runner/settle.js";
import type { ApplyCounts } from "../strategies/strategy.js";

export interface TableReport {
  table: string;
  /** The strategy that ran (a staged strategy that fell back says direct). */
  strategy: string;
  model: string | null;
  file: string;
  sha256: string;
  keyMode: "fields" | "columns" | null;
  rowsBefore: number;
  records: number;
  rowsLoaded: number;
  batches: number;
  bytes: number;
  durationMs: number;
  /** Client-observed time waiting on this table's INSERTs. */
  dbMs: number;
  /** What the final phase did: inserted, updated, unchanged, deleted (null where it cannot be known, see ApplyCounts). */
  applied: ApplyCounts | null;
  /** A plan's findings: changes by key, the final phase's writes, example rows. */
  planned?: PlannedTable;
}

/**
 * `planned`: a plan that ended in its ROLLBACK on purpose (deployable); `unchanged`: an
 * import that had nothing to do (the release and the targets are as its last deploy left them).
 */
export type Outcome = "committed" | "rolled back" | "refused" | "failed" | "planned" | "unchanged";

/** The JSON run report (`--json` prints it on stdout). No secrets: no URL, no password. */
export interface RunReport {
  /** `plan`: the same run, ended in ROLLBACK (atomic-etl plan). */
  mode: "import" | "plan";
  runId: string;
  release: string;
  environment: string;
  /** How the environment was chosen: `--env`, `ETL_ENV`, `detected: VAR=value`, `default`; null when the run was refused before. */
  environmentChosenBy: string | null;
  /** The database the run worked on: cluster system identifier, name and OID (never host or credentials). */
  database: DatabaseIdentity | null;
  strategy: string;
  outcome: Outcome;
  /** The release's combined content hash (src/ledger/content-hash.ts). */
  contentHash: string | null;
  /** Hash of the release content, the targets' fingerprints before the run and the effective config (what `--expect-plan` takes). */
  planHash: string | null;
  /** A plan's hash inputs, final phase and notes. */
  plan: PlanSection | null;
  /** Why an import had nothing to do. */
  unchanged: { reason: string; since: { runId: string; finishedAt: string | null } } | null;
  startedAt: string;
  durationMs: number;
  /** Transaction id of the load, logged before COMMIT (resolve with pg_xact_status). */
  txid: string | null;
  /** Set when the reply to COMMIT was lost and the commit was confirmed on a new connection. */
  commitConfirmedBy?: "pg_xact_status";
  batchSize: number;
  rows: number;
  rowsPerSecond: number;
  tables: TableReport[];
  backup: { id: string; path: string; sizeBytes: number; durationMs: number } | null;
  checks: { name: string; passed: boolean; durationMs: number }[];
  phases: Record<string, number>;
  /** Peak resident memory of the importing process. */
  peakRssMb: number;
  /** The memory budget (environment `memoryBudgetMb`) and the full GCs it ran to hold it. */
  memory: { budgetMb: number; collections: number; gcMs: number };
  /** Transactions run: 1, plus one per retry after a connection lost before COMMIT. */
  attempts: number;
  /** The failures that were retried, oldest first. */
  retries: RetryRecord[];
  /** Things the run noticed beside its outcome (CONCURRENT_CHANGES: other sessions wrote to the targets meanwhile). */
  warnings: RunWarning[];
  error: ReturnType<EtlError["toJSON"]> | null;
}

/** A failed run: the error, with the run report attached. */
export class RunFailed extends EtlError {
  constructor(
    readonly error: EtlError,
    readonly report: RunReport,
  ) {
    super(error.code, error.message, error.details());
  }
}

/** The report of a run that has not done anything yet. */
export function newReport(plan: RunPlan): RunReport {
  return emptyReport({
    mode: plan.mode,
    runId: plan.runId,
    release: plan.release,
    environment: plan.target.env,
    environmentChosenBy: describeChoice(plan.target),
    batchSize: plan.batchSize ?? plan.target.settings.batchSize,
    budgetMb: plan.target.settings.memoryBudgetMb,
  });
}

/** A report with nothing in it but who it is: for a run refused before it had a plan, too. */
export function emptyReport(r: {
  mode?: RunReport["mode"];
  runId: string;
  release: string;
  environment: string;
  environmentChosenBy?: string;
  batchSize: number;
  budgetMb: number;
}): RunReport {
  return {
    mode: r.mode ?? "import",
    runId: r.runId,
    release: r.release,
    environment: r.environment,
    environmentChosenBy: r.environmentChosenBy ?? null,
    database: null,
    strategy: "",
    outcome: "failed",
    contentHash: null,
    planHash: null,
    plan: null,
    unchanged: null,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    txid: null,
    batchSize: r.batchSize,
    rows: 0,
    rowsPerSecond: 0,
    tables: [],
    backup: null,
    checks: [],
    phases: {},
    peakRssMb: 0,
    memory: { budgetMb: r.budgetMb, collections: 0, gcMs: 0 },
    attempts: 0,
    retries: [],
    warnings: [],
    error: null,
  };
}

/** Rows, duration, throughput and peak memory of a committed run. */
export function withTiming(r: RunReport, started: number): void {
  const seconds = Math.max(0.001, (performance.now() - started) / 1000);
  r.rows = r.tables.reduce((a, t) => a + t.rowsLoaded, 0);
  r.durationMs = Math.round(seconds * 1000);
  r.rowsPerSecond = Math.round(r.rows / seconds);
  r.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
}

/** A short human summary for the terminal. */
export function formatReport(r: RunReport): string {
  const lines = [
    `atomic-etl ${r.release} → ${r.environment}${r.environmentChosenBy ? ` (${r.environmentChosenBy})` : ""}: ${r.outcome.toUpperCase()} in ${(r.durationMs / 1000).toFixed(2)} s (run ${r.runId})`,
  ];
  if (r.tables.length) {
    const w = Math.max(5, ...r.tables.map((t) => t.table.length));
    lines.push(`  ${"table".padEnd(w)}  ${"before".padStart(9)}  ${"loaded".padStart(9)}  ${"batches".padStart(7)}  ${"ms".padStart(7)}`);
    for (const t of r.tables) {
      lines.push(
        `  ${t.table.padEnd(w)}  ${String(t.rowsBefore).padStart(9)}  ${String(t.rowsLoaded).padStart(9)}  ${String(t.batches).padStart(7)}  ${String(t.durationMs).padStart(7)}`,
      );
    }
    lines.push(`  ${r.rows} rows, ${r.rowsPerSecond} rows/s, strategy ${r.strategy}, batch size ${r.batchSize}`);
  }
  if (r.unchanged) lines.push(`  nothing to do: ${r.unchanged.reason}`);
  if (r.backup) lines.push(`  backup: ${r.backup.path} (${(r.backup.sizeBytes / 1024).toFixed(0)} KiB)`);
  for (const w of r.warnings) lines.push(`  warning ${w.code}: ${w.message}`, `    next: ${w.next}`);
  if (r.txid) lines.push(`  transaction: ${r.txid}`);
  return lines.join("\n");
}
