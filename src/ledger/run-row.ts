import type { DatabaseIdentity } from "../db/database-identity.js";
import type { Fingerprint } from "../db/fingerprint.js";
import type { EtlError } from "../errors.js";
import type { TablePlan } from "../planner/table-plan.js";
import type { RunReport, TableReport } from "../reporting/report.js";
import type { RunPlan } from "../runner/plan.js";
import type { ContentHash } from "./content-hash.js";
import type { BucketPrint } from "./drift.js";
import { type LedgerRow, type LedgerTable, ledgerTable } from "./ledger-row.js";
import { outcomeOf } from "./record.js";
import type { Provenance } from "./provenance.js";

/** What an import knows of itself before its transaction: everything its ledger row holds but the outcome. */
export interface RunFacts {
  tables: readonly TablePlan[];
  /** Tables only the release's steps write (no file): in the row with strategy `step`. */
  stepTables: readonly { name: string }[];
  content: ContentHash;
  configHash: string;
  planHash: string | null;
  database: DatabaseIdentity | null;
  backupId: string | null;
  startedAt: string;
  provenance: Provenance;
}

/** A table's fingerprint right before COMMIT, with its buckets. */
export interface TableAfter {
  fingerprint: Fingerprint;
  buckets: BucketPrint;
}

/** The row as far as it is known (outcome `failed` until something better is known); before the catalog, without tables. */
export function runRow(plan: RunPlan, f: Partial<RunFacts> & Pick<RunFacts, "startedAt" | "provenance">): LedgerRow {
  const tables = f.tables ?? [];
  return {
    ...f.provenance,
    runId: plan.runId,
    kind: "import",
    release: plan.release,
    environment: plan.target.env,
    targetSchema: plan.schema,
    outcome: "failed",
    strategy: [...new Set(tables.map((t) => t.strategy))].join(",") || null,
    contentHash: f.content?.combined ?? null,
    configHash: f.configHash ?? null,
    planHash: f.planHash ?? null,
    tables: [
      ...tables.map((t) => ledgerTable(t.name, t.strategy, { file: t.file.file, sha256: t.file.sha256 })),
      ...(f.stepTables ?? []).map((t) => ledgerTable(t.name, "step")),
    ],
    backupId: f.backupId ?? null,
    txid: null,
    startedAt: f.startedAt,
    finishedAt: null,
    errorCode: null,
    errorMessage: null,
    database: f.database ?? null,
    drift: null,
  };
}

/** What the tables' reports add: the strategy that ran, rows before, records, the final phase's counts. */
function withReports(base: LedgerRow, reports: readonly TableReport[]): LedgerTable[] {
  return base.tables.map((t) => {
    const r = reports.find((x) => x.table === t.table);
    if (!r) return t;
    const a = r.applied;
    return {
      ...t,
      strategy: r.strategy,
      rowsBefore: r.rowsBefore,
      records: r.records,
      inserted: a?.inserted ?? null,
      updated: a?.updated ?? null,
      deleted: a?.deleted ?? null,
      unchanged: a?.unchanged ?? null,
      duplicatesInSource: a?.duplicatesInSource ?? null,
    };
  });
}

/** The row a committed import writes inside its transaction, right before COMMIT. */
export function committedRow(
  base: LedgerRow,
  r: { txid: string; strategy: string; tables: readonly TableReport[] },
  after: Readonly<Record<string, TableAfter>>,
): LedgerRow {
  return {
    ...base,
    outcome: "committed",
    txid: r.txid,
    strategy: r.strategy,
    tables: withReports(base, r.tables).map((t) => ({ ...t, fingerprintAfter: after[t.table]?.fingerprint ?? null })),
    drift: Object.fromEntries(Object.entries(after).map(([t, a]) => [t, a.buckets])),
  };
}

/** The row of a run that did not commit, written after its rollback. */
export function failedRow(base: LedgerRow, report: RunReport, error: EtlError): LedgerRow {
  return {
    ...base,
    outcome: outcomeOf(error),
    txid: report.txid,
    strategy: report.strategy || base.strategy,
    tables: withReports(base, report.tables),
    errorCode: error.code,
    errorMessage: error.message,
  };
}
