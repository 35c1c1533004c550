import type { DatabaseIdentity } from "../db/database-identity.js";
import type { Fingerprint } from "../db/fingerprint.js";
import type { RUN_COLUMNS } from "../sql/ledger.js";
import type { BucketPrint } from "./drift.js";
import type { Provenance } from "./provenance.js";

/** One table of a run, as the ledger keeps it. Counts are null where the run never got that far. */
export interface LedgerTable {
  table: string;
  strategy: string;
  file: string | null;
  /** sha256 of the table's file (the per-table content hash). */
  sha256: string | null;
  rowsBefore: number | null;
  records: number | null;
  inserted: number | null;
  updated: number | null;
  deleted: number | null;
  unchanged: number | null;
  duplicatesInSource: number | null;
  /** The fingerprint right before COMMIT (committed runs) or proven after a restore. */
  fingerprintAfter: Fingerprint | null;
}

/** A table of a row, with nothing known but its name and strategy unless `known` says more. */
export function ledgerTable(table: string, strategy: string, known: Partial<LedgerTable> = {}): LedgerTable {
  return {
    table,
    strategy,
    file: null,
    sha256: null,
    rowsBefore: null,
    records: null,
    inserted: null,
    updated: null,
    deleted: null,
    unchanged: null,
    duplicatesInSource: null,
    fingerprintAfter: null,
    ...known,
  };
}

export type LedgerKind = "import" | "restore";
/** `committed` for a run (import or restore) whose transaction committed; otherwise what the run reports. */
export type LedgerOutcome = "committed" | "rolled back" | "refused" | "failed";

/** One row of `<ledgerSchema>.runs`. */
export interface LedgerRow extends Provenance {
  runId: string;
  kind: LedgerKind;
  release: string | null;
  environment: string;
  /** Postgres schema of the targets. */
  targetSchema: string;
  outcome: LedgerOutcome;
  strategy: string | null;
  /** The release's combined content hash (null for a restore of a backup without one). */
  contentHash: string | null;
  /** Hash of the effective config (src/plan/effective-config.ts). */
  configHash: string | null;
  /** The plan hash of the state the run started from (what `import --expect-plan` compares). */
  planHash: string | null;
  tables: LedgerTable[];
  backupId: string | null;
  txid: string | null;
  startedAt: string;
  /** Set by the server at the insert. */
  finishedAt: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  database: DatabaseIdentity | null;
  /** Per table, the buckets of its fingerprint after the load: what `status` counts drifted rows with. */
  drift: Record<string, BucketPrint> | null;
}

type Columns = Record<(typeof RUN_COLUMNS)[number], unknown>;

/** The row as the insert's column values. */
export function toColumns(r: LedgerRow): Columns {
  return {
    run_id: r.runId,
    kind: r.kind,
    release: r.release,
    environment: r.environment,
    target_schema: r.targetSchema,
    outcome: r.outcome,
    strategy: r.strategy,
    content_hash: r.contentHash,
    tables: r.tables,
    backup_id: r.backupId,
    txid: r.txid,
    started_at: r.startedAt,
    error_code: r.errorCode,
    error_message: r.errorMessage,
    tool_version: r.toolVersion,
    git_commit: r.gitCommit,
    os_user: r.osUser,
    host: r.host,
    config_hash: r.configHash,
    plan_hash: r.planHash,
    database: r.database,
    drift: r.drift,
  };
}

const iso = (v: unknown) =>
  v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : new Date(String(v)).toISOString();
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const json = <T>(v: unknown): T => (typeof v === "string" ? (JSON.parse(v) as T) : (v as T));

/** A row read back (v1 ledgers have no v2 columns: those read as null). */
export function fromColumns(c: Record<string, unknown>): LedgerRow {
  return {
    runId: String(c.run_id),
    kind: c.kind as LedgerKind,
    release: str(c.release),
    environment: String(c.environment),
    targetSchema: String(c.target_schema),
    outcome: c.outcome as LedgerOutcome,
    strategy: str(c.strategy),
    contentHash: str(c.content_hash),
    configHash: str(c.config_hash),
    planHash: str(c.plan_hash),
    tables: json<LedgerTable[]>(c.tables ?? []),
    backupId: str(c.backup_id),
    txid: str(c.txid),
    startedAt: iso(c.started_at) ?? "",
    finishedAt: iso(c.finished_at),
    errorCode: str(c.error_code),
    errorMessage: str(c.error_message),
    toolVersion: String(c.tool_version ?? "unknown"),
    gitCommit: str(c.git_commit),
    osUser: str(c.os_user),
    host: str(c.host),
    database: c.database ? json<DatabaseIdentity>(c.database) : null,
    drift: c.drift ? json<Record<string, BucketPrint>>(c.drift) : null,
  };
}
