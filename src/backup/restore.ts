import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { Logger } from "pino";
import { diffFingerprints, fingerprintTables } from "../db/fingerprint.js";
import { connect, pgTx } from "../db/pg-client.js";
import { query } from "../db/prisma-like.js";
import { type DataOutcome, EtlError } from "../errors.js";
import { planLoadOrder } from "../planner/fk-order.js";
import { silentLogger } from "../reporting/logger.js";
import { redactUrl } from "../reporting/redact.js";
import { readCatalog } from "../db/catalog.js";
import { bumpSequence, deleteAll, truncateTables } from "../sql/bulk.js";
import type { TableInfo } from "../sql/catalog.js";
import { lockTables } from "../sql/locks.js";
import type { BackupManifest } from "./manifest.js";
import { libpqEnv, resolveClientTool } from "./pg-tools.js";
import { PsqlSession } from "./psql-session.js";
import { assertSchemaCompatible } from "./schema-check.js";
import { useList } from "./toc.js";
import { verifyBackup } from "./verify.js";

export interface RestoreOptions {
  log?: Logger;
  /** How long to wait for the tables' locks before giving up (default 30 s). */
  lockTimeoutMs?: number;
}

export interface RestoreResult {
  /** In the order they were restored (parents first). */
  tables: string[];
  rows: number;
  durationMs: number;
}

/**
 * Restores the tables of a backup atomically, and proves it. The caller holds the run lock.
 *
 * 1. The dump must match its manifest (size, sha256, table of contents) and the tables'
 *    columns must still be the backup's; otherwise nothing is touched.
 * 2. One psql session, one transaction: lock and clear the tables, replay their data from the
 *    dump in FK order (pg_restore --use-list), re-fingerprint them with the same function as
 *    everywhere else, and COMMIT only if every fingerprint equals the manifest's. Any failure
 *    before that ends the session without COMMIT, so the server rolls everything back.
 * 3. Sequences are raised to the restored maximum (never lowered: setval is not transactional).
 *
 * @example await restoreBackup(url, "backups/x.dump", manifest, { log })
 */
export async function restoreBackup(
  url: string,
  dumpPath: string,
  manifest: BackupManifest,
  opts: RestoreOptions = {},
): Promise<RestoreResult> {
  const started = performance.now();
  const log = opts.log ?? silentLogger();
  const entries = await verifyBackup({ manifest, dumpPath }, "restore");
  const names = Object.keys(manifest.tables);
  const catalog = await readTargets(url, manifest, names);
  const plan = planLoadOrder(catalog, names);
  const targets = plan.loadOrder.map((n) => catalog.get(n) as TableInfo);
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
  await writeFile(listFile, useList(entries, manifest.schema, plan.loadOrder), { mode: 0o600 });
  const base = libpqEnv(url).PGOPTIONS;
  const session = PsqlSession.open(psql, url, { PGOPTIONS: `${base ? `${base} ` : ""}-c lock_timeout=${opts.lockTimeoutMs ?? 30_000}` });
  let commitSent = false;
  let txid: string | null = null;
  try {
    session.write("BEGIN;");
    txid = (await session.$queryRawUnsafe<{ txid: string }[]>("SELECT txid_current()::text AS txid"))[0]?.txid ?? null;
    session.write(`${lockTables(targets, "EXCLUSIVE").text};`);
    if (plan.deferConstraints) session.write("SET CONSTRAINTS ALL DEFERRED;");
    const outside = targets.some((t) => t.referencedBy.some((fk) => fk.table.schema !== manifest.schema || !names.includes(fk.table.name)));
    if (outside) for (const n of plan.clearOrder) session.write(`${deleteAll(catalog.get(n) as TableInfo).text};`);
    else session.write(`${truncateTables(targets).text};`);

    const restore = execa(
      pgRestore.path,
      ["--data-only", "--no-owner", "--no-privileges", `--use-list=${listFile}`, "--file=-", dumpPath],
      { reject: false, stdin: "ignore" },
    );
    await session.pipeFrom(restore.stdout);
    const source = await restore;
    if (source.exitCode !== 0) throw new Error(`pg_restore failed: ${lastLines(source.stderr)}`);

    const after = await fingerprintTables(session, targets);
    const differ = diffFingerprints(after, manifest.tables);
    if (differ.length) {
      await session.finish("ROLLBACK");
      throw new EtlError(
        "RESTORE_VERIFY_FAILED",
        `restoring ${manifest.id} did not reproduce ${differ.join(", ")} (a trigger or rule changed the rows?); rolled back`,
        {
          step: "restore",
          data: "rolled back; database unchanged",
          meta: { tables: differ },
          next: "check the triggers on these tables, or restore by hand with pg_restore",
        },
      );
    }
    commitSent = true;
    const exit = await session.finish("COMMIT");
    if (exit.exitCode !== 0 && (await xactStatus(url, txid)) !== "committed") throw new Error(`COMMIT failed: ${lastLines(exit.stderr)}`);
  } catch (e) {
    if (e instanceof EtlError) throw e;
    const exit = await session.finish(null);
    const why = exit.exitCode !== 0 && exit.stderr.trim() ? lastLines(exit.stderr) : (e as Error).message;
    const data: DataOutcome = !commitSent || (await xactStatus(url, txid)) === "aborted" ? "rolled back; database unchanged" : "unknown";
    throw new EtlError("RESTORE_FAILED", redactUrl(`restore of ${manifest.id} failed: ${why}`), {
      step: "restore",
      data,
      cause: e,
      next:
        data === "unknown"
          ? `check the tables by hand, then run: atomic-etl restore ${manifest.id}`
          : "fix the cause above and run the restore again",
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  await raiseSequences(url, targets);
  const rows = Object.values(manifest.tables).reduce((a, t) => a + t.rows, 0);
  const durationMs = Math.round(performance.now() - started);
  log.info(
    { phase: "restore", backup: manifest.id, tables: targets.length, rows, durationMs },
    "restored and verified against the manifest",
  );
  return { tables: plan.loadOrder, rows, durationMs };
}

async function readTargets(url: string, manifest: BackupManifest, names: string[]): Promise<Map<string, TableInfo>> {
  const client = await connect(url, "atomic-etl:restore");
  try {
    const catalog = await readCatalog(pgTx(client), manifest.schema, names).catch((e: unknown) => {
      if (e instanceof EtlError && e.code === "CATALOG_MISMATCH") {
        throw new EtlError(
          "RESTORE_SCHEMA_MISMATCH",
          `the schema changed since backup ${manifest.id}; nothing was restored: ${e.message}`,
          {
            step: "restore",
            next: "migrate the database back to the backup's schema, or restore by hand with pg_restore",
          },
        );
      }
      throw e;
    });
    assertSchemaCompatible(manifest, catalog);
    return catalog;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** After an unconfirmed COMMIT: `committed`, `aborted`, `in progress`, or null when the server cannot say. */
async function xactStatus(url: string, txid: string | null): Promise<string | null> {
  if (!txid) return null;
  const client = await connect(url, "atomic-etl:verify").catch(() => null);
  if (!client) return null;
  try {
    const [x] = await pgTx(client).$queryRawUnsafe<{ status: string | null }[]>("SELECT pg_xact_status($1::xid8) AS status", txid);
    return x?.status ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** setval is not transactional, so it runs after COMMIT, and only ever raises a sequence. */
async function raiseSequences(url: string, targets: readonly TableInfo[]): Promise<void> {
  const client = await connect(url, "atomic-etl:restore");
  try {
    const tx = pgTx(client);
    for (const t of targets) for (const c of t.columns) if (c.sequence) await query(tx, bumpSequence(t, c.name, c.sequence));
  } finally {
    await client.end().catch(() => undefined);
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" ");
}
