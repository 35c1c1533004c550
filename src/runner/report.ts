import type { EtlError } from "../errors.js";
import type { RetryRecord } from "./retry.js";
import type { ApplyCounts } from "../strategies/strategy.js";

export interface TableReport {
  table: string;
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
  /** What the final phase did (merge counts; -1 where a count does not apply). */
  applied: ApplyCounts | null;
}

export type Outcome = "committed" | "rolled back" | "restored from backup" | "refused" | "failed";

/** The JSON run report (`--json` prints it on stdout). No secrets: no URL, no password. */
export interface RunReport {
  runId: string;
  release: string;
  environment: string;
  strategy: string;
  outcome: Outcome;
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
  error: ReturnType<EtlError["toJSON"]> | null;
}

/** A short human summary for the terminal. */
export function formatReport(r: RunReport): string {
  const lines = [
    `atomic-etl ${r.release} → ${r.environment}: ${r.outcome.toUpperCase()} in ${(r.durationMs / 1000).toFixed(2)} s (run ${r.runId})`,
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
  if (r.backup) lines.push(`  backup: ${r.backup.path} (${(r.backup.sizeBytes / 1024).toFixed(0)} KiB)`);
  if (r.txid) lines.push(`  transaction: ${r.txid}`);
  return lines.join("\n");
}
