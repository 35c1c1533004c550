import { randomBytes } from "node:crypto";
import { execa } from "execa";
import { formatIdentity, readDatabaseIdentity, sameDatabase } from "../db/database-identity.js";
import { fingerprintTable, formatOf } from "../db/fingerprint.js";
import { query } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { addForeignKeyUnlessViolated, currentTxid, dropConstraint, emptySearchPath } from "../sql/backup-statements.js";
import { deferConstraints } from "../sql/session.js";
import { truncateTables } from "../sql/bulk.js";
import { lockTables } from "../sql/locks.js";
import type { StoredManifest } from "./manifest.js";
import type { ResolvedTool } from "./pg-tools.js";
import type { PsqlSession } from "./psql-session.js";
import { assertMayAlter, childOf, findOrphans, fkLabel, orphanError, readReferencingForeignKeys } from "./restore-foreign-keys.js";
import type { RestorePlan } from "./restore-plan.js";

/** Everything the restore's transaction needs. */
export interface RestoreJob {
  manifest: StoredManifest;
  plan: RestorePlan;
  dumpPath: string;
  /** The `--use-list` file: the restored tables' (and partitions') TABLE DATA, parents first. */
  listFile: string;
  pgRestore: ResolvedTool;
}

/** What the caller needs to judge a failure: the transaction id, and whether COMMIT was sent. */
export interface RestoreState {
  txid: string | null;
  commitSent: boolean;
}

/**
 * The restore's one transaction, in a psql session: lock the restored tables and the tables
 * whose FKs reference them; take those FKs off; TRUNCATE the restored tables (a partitioned one
 * with all its partitions); replay their data (a partitioned table's into its partitions) from
 * the dump; put every FK back, which validates each referencing row in one join; name the rows
 * that would have lost their parent if one does not go back; prove every table against its
 * fingerprint in the manifest; COMMIT. Any failure before COMMIT leaves the session without
 * one, and the server rolls everything back: the FKs, the rows, the locks.
 *
 * Returns the FKs of tables outside the restore that were taken off and put back.
 */
export async function restoreInSession(session: PsqlSession, job: RestoreJob, state: RestoreState): Promise<string[]> {
  const { manifest, plan } = job;
  session.write("BEGIN;");
  state.txid = (await query<{ txid: string }>(session, currentTxid()))[0]?.txid ?? null;
  await query(session, emptySearchPath());
  const here = await readDatabaseIdentity(session);
  if (!sameDatabase(here, plan.identity)) {
    throw new EtlError(
      "BACKUP_WRONG_DATABASE",
      `the restore's session reached ${formatIdentity(here)}, not ${formatIdentity(plan.identity)} that was checked; nothing was restored`,
      {
        step: "restore",
        data: "rolled back; database unchanged",
        next: "check that the connection URL names one database (no failover in between), then retry",
      },
    );
  }
  session.write(`${lockTables([...plan.tables, ...plan.referencing], "ACCESS EXCLUSIVE").text};`);
  // read again under the locks: this is what the transaction takes off and puts back
  const fks = (await readReferencingForeignKeys(session, plan.tables)).filter((f) => plan.dropInside || !f.inside);
  assertMayAlter(fks, manifest.id);
  for (const fk of fks) session.write(`${dropConstraint(childOf(fk), fk.name).text};`);
  session.write(`${truncateTables(plan.tables).text};`);
  if (plan.deferConstraints) session.write(`${deferConstraints().text};`);

  const restore = execa(
    job.pgRestore.path,
    ["--data-only", "--no-owner", "--no-privileges", `--use-list=${job.listFile}`, "--file=-", job.dumpPath],
    { reject: false, stdin: "ignore" },
  );
  await session.pipeFrom(restore.stdout);
  const source = await restore;
  if (source.exitCode !== 0) throw new Error(`pg_restore failed: ${source.stderr.trim().split("\n").slice(-3).join(" ")}`);

  const tag = `atomic_etl_${randomBytes(6).toString("hex")}`;
  for (const fk of fks) session.write(`${addForeignKeyUnlessViolated(childOf(fk), fk.name, fk.definition, tag).text};`);
  const back = new Set((await readReferencingForeignKeys(session, plan.tables)).map(fkLabel));
  const failed = fks.filter((f) => !back.has(fkLabel(f)));
  if (failed.length) throw orphanError(manifest.id, await findOrphans(session, failed));

  const differ: string[] = [];
  for (const t of plan.tables) {
    const fp = await fingerprintTable(session, t, formatOf(t.entry.hash));
    if (fp.rows !== t.entry.rows || fp.hash !== t.entry.hash) differ.push(t.label);
  }
  if (differ.length) {
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
  return fks.filter((f) => !f.inside).map(fkLabel);
}
