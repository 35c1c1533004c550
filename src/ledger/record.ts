import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { BackupManifest } from "../backup/manifest.js";
import type { LoadedConfig } from "../config/load.js";
import { readDatabaseIdentity } from "../db/database-identity.js";
import { connect, pgTx } from "../db/pg-client.js";
import { execute, query } from "../db/prisma-like.js";
import type { EtlError } from "../errors.js";
import { silentLogger } from "../reporting/logger.js";
import type { RunWarning } from "../runner/settle.js";
import { insertRun } from "../sql/ledger.js";
import { sessionLockTimeout } from "../sql/locks.js";
import type { Statement } from "../sql/statement.js";
import { type LedgerOutcome, type LedgerRow, ledgerTable, toColumns } from "./ledger-row.js";
import { ensureLedger } from "./ledger-schema.js";
import { provenance } from "./provenance.js";

/** The INSERT of one run's row (inside the run's own transaction for a committed import). */
export const ledgerInsert = (schema: string, row: LedgerRow): Statement => insertRun(schema, toColumns(row));

/** What a failed run's data outcome makes its ledger outcome. */
export function outcomeOf(error: EtlError): LedgerOutcome {
  if (error.data === "untouched") return "refused";
  if (error.data === "unknown") return "failed";
  return error.data === "committed" ? "committed" : "rolled back";
}

/**
 * Writes a row on a connection of its own, in its own short transaction (a failed run, after
 * its rollback; a restore). Never throws: a row that cannot be written is a warning, and
 * never blocks a later run. `ensure`: create or upgrade the ledger first (the caller holds
 * the run lock).
 */
export async function recordRun(
  url: string,
  schema: string,
  row: LedgerRow,
  opts: { ensure?: boolean; log?: Logger } = {},
): Promise<RunWarning | null> {
  const log = opts.log ?? silentLogger();
  let conn: Awaited<ReturnType<typeof connect>> | null = null;
  try {
    conn = await connect(url, "atomic-etl:ledger");
    const db = pgTx(conn);
    // never wait long behind a transaction that still holds this run's row
    await query(db, sessionLockTimeout(5_000));
    if (opts.ensure) await ensureLedger(db, schema, row.toolVersion);
    await execute(db, ledgerInsert(schema, row));
    log.info({ phase: "ledger", kind: row.kind, outcome: row.outcome, ledger: schema }, "ledger row recorded");
    return null;
  } catch (e) {
    const warning: RunWarning = {
      code: "LEDGER_NOT_RECORDED",
      message: `the ${row.kind} ${row.runId} (${row.outcome}) could not be recorded in the ledger ${schema}.runs: ${(e as Error).message}`,
      tables: [],
      next: "nothing to do for the data; the ledger only misses this row",
    };
    log.warn({ phase: "ledger", code: warning.code }, warning.message);
    return warning;
  } finally {
    await conn?.end().catch(() => undefined);
  }
}

export interface RestoreRecord {
  url: string;
  environment: string;
  backupId: string;
  manifest: Pick<BackupManifest, "schema" | "tables">;
  /** When the restore started. */
  startedAt: Date;
  /** The restore's failure; absent when it committed. */
  error?: EtlError | null;
  log?: Logger;
}

/**
 * Records a restore in the ledger: kind `restore`, the backup id, and (when it committed) the
 * manifest's fingerprints, which the restore proved the tables equal. The caller holds the
 * run lock (the ledger is created or upgraded under it). A failure to record is a warning.
 *
 * @example await recordRestore(config, { url, environment: "staging", backupId: b.manifest.id, manifest: b.manifest, startedAt })
 */
export async function recordRestore(config: LoadedConfig, r: RestoreRecord): Promise<RunWarning | null> {
  const p = await provenance(config.root);
  const committed = !r.error;
  let database: LedgerRow["database"] = null;
  const conn = await connect(r.url, "atomic-etl:ledger").catch(() => null);
  if (conn)
    database = await readDatabaseIdentity(pgTx(conn))
      .finally(() => conn.end().catch(() => undefined))
      .catch(() => null);
  const row: LedgerRow = {
    ...p,
    runId: randomUUID(),
    kind: "restore",
    release: null,
    environment: r.environment,
    targetSchema: r.manifest.schema,
    outcome: r.error ? outcomeOf(r.error) : "committed",
    strategy: null,
    contentHash: null,
    configHash: null,
    planHash: null,
    tables: Object.entries(r.manifest.tables).map(([table, t]) =>
      ledgerTable(table, "restore", { fingerprintAfter: committed ? { rows: t.rows, hash: t.hash } : null }),
    ),
    backupId: r.backupId,
    txid: null,
    startedAt: r.startedAt.toISOString(),
    finishedAt: null,
    errorCode: r.error?.code ?? null,
    errorMessage: r.error?.message ?? null,
    database,
    drift: null,
  };
  return recordRun(r.url, config.ledgerSchema, row, { ensure: true, log: r.log });
}
