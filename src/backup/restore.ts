import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Logger } from "pino";
import { connect, pgTx } from "../db/pg-client.js";
import { transactionOutcome } from "../db/transaction-status.js";
import { query } from "../db/prisma-like.js";
import { type DataOutcome, EtlError } from "../errors.js";
import { silentLogger } from "../reporting/logger.js";
import { redactUrl } from "../reporting/redact.js";
import { bumpSequence } from "../sql/bulk.js";
import { dataEntriesOf, type StoredManifest } from "./manifest.js";
import { libpqEnv, resolveClientTool } from "./pg-tools.js";
import { PsqlSession } from "./psql-session.js";
import { planRestore, type RestoredTable } from "./restore-plan.js";
import { restoreInSession, type RestoreState } from "./restore-session.js";
import { useList } from "./toc.js";
import { verifyBackup } from "./verify.js";

export interface RestoreOptions {
  log?: Logger;
  /** How long to wait for the tables' locks before giving up (default 30 s). */
  lockTimeoutMs?: number;
  /** Restore a backup of another database (or of unknown identity, format 1) here, on purpose. */
  intoOtherDatabase?: boolean;
  /**
   * `targets` (default): the run's tables; `all`: everything the manifest holds (for a `--backup full` backup, every
   * table of the database), which is what `atomic-etl restore` does.
   */
  tables?: "all" | "targets";
}

export interface RestoreResult {
  /** In the order they were restored (parents first); tables of other schemas as `schema.table`. */
  tables: string[];
  rows: number;
  durationMs: number;
  /** FKs of tables outside the restore that were taken off for its transaction and put back, validated (`schema.table.fk`). */
  foreignKeys: string[];
}

/**
 * Restores the tables of a backup atomically, and proves it. The caller holds the run lock.
 *
 * 1. The dump must match its manifest (size, sha256, table of contents), the backup must be of
 *    this database (BACKUP_WRONG_DATABASE, BACKUP_IDENTITY_UNKNOWN, unless
 *    `intoOtherDatabase`), the tables' columns and partitions must still be the backup's, and
 *    the role must be allowed to alter the tables whose FKs reference the restored ones;
 *    otherwise nothing is touched.
 * 2. One psql session, one transaction (see {@link restoreInSession}): rows of tables outside
 *    the backup are never deleted, cascaded into or set to NULL; if some would lose their
 *    parent, they are named (RESTORE_WOULD_ORPHAN) and everything is rolled back.
 * 3. Sequences are raised to the restored maximum (never lowered: setval is not transactional).
 *
 * @example await restoreBackup(url, "backups/x.dump", manifest, { log })
 */
export async function restoreBackup(
  url: string,
  dumpPath: string,
  manifest: StoredManifest,
  opts: RestoreOptions = {},
): Promise<RestoreResult> {
  const started = performance.now();
  const log = opts.log ?? silentLogger();
  const entries = await verifyBackup({ manifest, dumpPath }, "restore");
  const plan = await planRestore(url, manifest, { intoOtherDatabase: opts.intoOtherDatabase, scope: opts.tables ?? "targets" });
  const [pgRestore, psql] = await Promise.all([
    resolveClientTool("pg_restore", process.env, "restore"),
    resolveClientTool("psql", process.env, "restore"),
  ]);
  if (psql.major < 12) {
    throw new EtlError("RESTORE_FAILED", `${psql.version} is too old to restore with (psql 12 or newer is needed); nothing was restored`, {
      step: "restore",
      next: "install a current PostgreSQL client and put it first on PATH or in PG_BIN_DIR",
    });
  }

  const work = await mkdtemp(path.join(tmpdir(), "atomic-etl-restore-"));
  const listFile = path.join(work, "use-list");
  await writeFile(listFile, useList(entries, plan.tables.flatMap(dataEntriesOf)), { mode: 0o600 });
  const base = libpqEnv(url).PGOPTIONS;
  const session = PsqlSession.open(psql, url, { PGOPTIONS: `${base ? `${base} ` : ""}-c lock_timeout=${opts.lockTimeoutMs ?? 30_000}` });
  const state: RestoreState = { txid: null, commitSent: false };
  let foreignKeys: string[];
  try {
    foreignKeys = await restoreInSession(session, { manifest, plan, dumpPath, listFile, pgRestore }, state);
    state.commitSent = true;
    const exit = await session.finish("COMMIT");
    if (exit.exitCode !== 0 && (await xactStatus(url, state.txid)) !== "committed") {
      throw new Error(`COMMIT failed: ${lastLines(exit.stderr)}`);
    }
  } catch (e) {
    throw await restoreFailure(e, session, url, manifest.id, state);
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  await raiseSequences(url, plan.tables);
  const rows = plan.tables.reduce((a, t) => a + t.entry.rows, 0);
  const durationMs = Math.round(performance.now() - started);
  log.info(
    { phase: "restore", backup: manifest.id, tables: plan.tables.length, rows, foreignKeys: foreignKeys.length, durationMs },
    "restored and verified against the manifest",
  );
  return { tables: plan.tables.map((t) => t.label), rows, durationMs, foreignKeys };
}

/** Ends the session without COMMIT (unless it was sent) and says what happened to the data. */
async function restoreFailure(e: unknown, session: PsqlSession, url: string, id: string, state: RestoreState): Promise<EtlError> {
  const exit = await session.finish(state.commitSent ? null : "ROLLBACK");
  if (e instanceof EtlError) return e;
  const why = exit.exitCode !== 0 && exit.stderr.trim() ? lastLines(exit.stderr) : (e as Error).message;
  const data: DataOutcome =
    !state.commitSent || (await xactStatus(url, state.txid)) === "aborted" ? "rolled back; database unchanged" : "unknown";
  return new EtlError("RESTORE_FAILED", redactUrl(`restore of ${id} failed: ${why}`), {
    step: "restore",
    data,
    cause: e,
    next:
      data === "unknown" ? `check the tables by hand, then run: atomic-etl restore ${id}` : "fix the cause above and run the restore again",
  });
}

/** After an unconfirmed COMMIT: `committed`, `aborted`, `in progress`, or null when the server cannot say. */
async function xactStatus(url: string, txid: string | null): Promise<string | null> {
  if (!txid) return null;
  const client = await connect(url, "atomic-etl:verify").catch(() => null);
  if (!client) return null;
  try {
    const status = await transactionOutcome(pgTx(client), txid, { timeoutMs: 0 });
    return status === "unknown" ? null : status;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** setval is not transactional, so it runs after COMMIT, and only ever raises a sequence. */
async function raiseSequences(url: string, tables: readonly RestoredTable[]): Promise<void> {
  const client = await connect(url, "atomic-etl:restore");
  try {
    const tx = pgTx(client);
    for (const t of tables) for (const c of t.info.columns) if (c.sequence) await query(tx, bumpSequence(t, c.name, c.sequence));
  } finally {
    await client.end().catch(() => undefined);
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" ");
}
