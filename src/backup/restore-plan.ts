import { type DatabaseIdentity, formatIdentity, readDatabaseIdentity, sameDatabase } from "../db/database-identity.js";
import { connect, pgTx } from "../db/pg-client.js";
import { query, type TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { planLoadOrder } from "../planner/fk-order.js";
import { emptySearchPath } from "../sql/backup-statements.js";
import { readCatalog } from "../db/catalog.js";
import type { TableInfo } from "../sql/catalog.js";
import { type QualifiedName, qualified } from "../sql/quote.js";
import { partitionsOf } from "./dump-contents.js";
import { type BackedUpTable, backedUpTables, type StoredManifest } from "./manifest.js";
import { assertMayAlter, childOf, readReferencingForeignKeys } from "./restore-foreign-keys.js";
import { assertSchemaCompatible } from "./schema-check.js";

/** A table the restore replaces, with what the database says of it now. */
export interface RestoredTable extends BackedUpTable {
  /** `players` for a table of the backup's schema, `audit.log` otherwise. */
  label: string;
  info: TableInfo;
}

/** What the checks before the restore's transaction decided. */
export interface RestorePlan {
  /** The database the checks ran on; the restore session must reach the same. */
  identity: DatabaseIdentity;
  /** Parents before children (any order when `dropInside`). */
  tables: RestoredTable[];
  deferConstraints: boolean;
  /**
   * Whole-database restore: the FKs among the restored tables are taken off as well, so the
   * data loads in any order (as pg_restore does). Otherwise only FKs of tables outside the
   * restore are, and the data loads parents first with the FKs among restored tables in place.
   */
  dropInside: boolean;
  /** Tables outside the restore whose FKs reference it: locked with it. */
  referencing: QualifiedName[];
}

export interface PlanOptions {
  intoOtherDatabase?: boolean;
  scope: "all" | "targets";
}

/**
 * The checks before a restore, on their own connection, changing nothing: the backup is of
 * this database (unless `intoOtherDatabase`), its tables and columns (and partitions) are
 * still there as backed up, and the role may alter every table whose FK has to come off.
 *
 * @example const plan = await planRestore(url, manifest, { scope: "all" })
 */
export async function planRestore(url: string, manifest: StoredManifest, opts: PlanOptions): Promise<RestorePlan> {
  const client = await connect(url, "atomic-etl:restore");
  try {
    const tx = pgTx(client);
    const identity = await readDatabaseIdentity(tx);
    assertSameDatabase(manifest, identity, opts.intoOtherDatabase === true);
    const backed = backedUpTables(manifest, opts.scope);
    const infos = await currentTables(tx, manifest, backed);
    const partitions = await partitionsOf(tx, backed);
    // currentTables has refused any table that is gone: every one has its catalog entry
    const restored = backed.map((t) => ({
      ...t,
      label: t.target ? t.name : `${t.schema}.${t.name}`,
      info: infos.get(qualified(t)) as TableInfo,
    }));
    assertSchemaCompatible(
      manifest.id,
      restored.map((t) => ({ label: t.label, entry: t.entry, now: t.info, partitionsNow: partitions.get(qualified(t)) ?? null })),
    );
    await query(tx, emptySearchPath());
    const dropInside = manifest.mode === "full" && opts.scope === "all";
    const fks = (await readReferencingForeignKeys(tx, restored)).filter((f) => dropInside || !f.inside);
    assertMayAlter(fks, manifest.id);
    const referencing = [...new Map(fks.filter((f) => !f.inside).map((f) => [`${f.schema}.${f.table}`, childOf(f)])).values()];
    if (dropInside) return { identity, tables: restored, deferConstraints: false, dropInside, referencing };
    // without a whole-database restore every restored table is a target, in the backup's schema
    const order = planLoadOrder(
      new Map(restored.map((t) => [t.name, t.info])),
      restored.map((t) => t.name),
    );
    const ordered = order.loadOrder.map((n) => restored.find((t) => t.name === n) as RestoredTable);
    return { identity, tables: ordered, deferConstraints: order.deferConstraints, dropInside, referencing };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * BACKUP_WRONG_DATABASE when the backup is of another database, BACKUP_IDENTITY_UNKNOWN when it
 * cannot say (format 1); both say how to restore it here on purpose.
 */
export function assertSameDatabase(m: StoredManifest, here: DatabaseIdentity, intoOtherDatabase: boolean): void {
  if (intoOtherDatabase || sameDatabase(m.identity, here)) return;
  const next = `restore a backup of this database (atomic-etl backups --env ${m.environment} lists them); to put this backup's data into ${here.database} on purpose: atomic-etl restore ${m.id} --env ${m.environment} --into-other-database`;
  const meta = { backup: m.id, backupDatabase: m.identity ?? { database: m.database }, thisDatabase: here };
  if (!m.identity) {
    throw new EtlError(
      "BACKUP_IDENTITY_UNKNOWN",
      `backup ${m.id} was written in format 1, which records only a database name ("${m.database}"), no identity: it cannot be proven to be a backup of this database, ${formatIdentity(here)}; nothing was restored`,
      { step: "restore", data: "untouched", meta, next },
    );
  }
  throw new EtlError(
    "BACKUP_WRONG_DATABASE",
    `backup ${m.id} is of database ${formatIdentity(m.identity)}, and this is database ${formatIdentity(here)}; nothing was restored`,
    { step: "restore", data: "untouched", meta, next },
  );
}

/** The restored tables as they are now, by qualified name; a missing table is RESTORE_SCHEMA_MISMATCH. */
async function currentTables(tx: TxLike, m: StoredManifest, tables: readonly QualifiedName[]): Promise<Map<string, TableInfo>> {
  const bySchema = new Map<string, string[]>();
  for (const t of tables) bySchema.set(t.schema, [...(bySchema.get(t.schema) ?? []), t.name]);
  const out = new Map<string, TableInfo>();
  for (const [schema, names] of bySchema) {
    const catalog = await readCatalog(tx, schema, names).catch((e: unknown) => {
      if (e instanceof EtlError && e.code === "CATALOG_MISMATCH") {
        throw new EtlError("RESTORE_SCHEMA_MISMATCH", `the schema changed since backup ${m.id}; nothing was restored: ${e.message}`, {
          step: "restore",
          data: "untouched",
          next: "migrate the database back to the backup's schema, or restore by hand with pg_restore",
        });
      }
      throw e;
    });
    for (const [name, info] of catalog) out.set(qualified({ schema, name }), info);
  }
  return out;
}
