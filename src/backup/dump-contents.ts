import { type DatabaseIdentity, readDatabaseIdentity } from "../db/database-identity.js";
import { fingerprintTable } from "../db/fingerprint.js";
import { execute, query, type TxLike } from "../db/prisma-like.js";
import { databaseTables, partitionLeaves } from "../sql/backup-statements.js";
import { readCatalog } from "../db/catalog.js";
import { lockTables } from "../sql/locks.js";
import { type QualifiedName, qualified } from "../sql/quote.js";
import type { BackupManifest, ManifestTable } from "./manifest.js";

/** What a backup holds, read in the dump's snapshot. */
export interface DumpContents {
  identity: DatabaseIdentity;
  tables: BackupManifest["tables"];
  /** Mode `full`: every other table. Rows and fingerprints (of these and of `tables`) are filled in by {@link fingerprintContents}. */
  otherTables: BackupManifest["otherTables"];
  /** Every TABLE DATA entry the dump must hold: plain tables and the leaf partitions of partitioned ones. */
  dataEntries: QualifiedName[];
}

/**
 * Reads, inside the snapshot the dump will use, the database's identity and, for each table
 * the backup covers (the targets; in mode `full` also every other table of the database), its
 * columns and leaf partitions. The targets are locked ACCESS SHARE first, held for the whole
 * backup, so no DDL slips in between the snapshot and pg_dump's own locks; the other tables of
 * a full backup are left to pg_dump, so a lock held on one of them is waited for there, where
 * it shows. Row counts and fingerprints come later ({@link fingerprintContents}), while
 * pg_dump runs.
 *
 * @example const contents = await readDumpContents(tx, "public", ["leagues"], "tables")
 */
export async function readDumpContents(
  tx: TxLike,
  schema: string,
  targets: readonly string[],
  mode: BackupManifest["mode"],
): Promise<DumpContents> {
  const identity = await readDatabaseIdentity(tx);
  const mine = targets.map((name) => ({ schema, name }));
  if (mine.length) await execute(tx, lockTables(mine, "ACCESS SHARE"));
  const isTarget = new Set(mine.map(qualified));
  const others = mode === "full" ? (await query<QualifiedName>(tx, databaseTables())).filter((t) => !isTarget.has(qualified(t))) : [];
  const all = [...mine, ...others];
  const partitions = await partitionsOf(tx, all);
  const columns = await columnsOf(tx, all);
  const entry = (t: QualifiedName, rows: number, hash: string): ManifestTable => ({
    rows,
    hash,
    columns: columns.get(qualified(t)) ?? [],
    partitions: partitions.get(qualified(t)) ?? null,
  });
  const tables: BackupManifest["tables"] = {};
  for (const t of mine) tables[t.name] = entry(t, 0, "0");
  const otherTables = others.map((t) => ({ schema: t.schema, name: t.name, ...entry(t, 0, "0") }));
  return { identity, tables, otherTables, dataEntries: all.flatMap((t) => partitions.get(qualified(t)) ?? [t]) };
}

/**
 * Fills in the row counts and fingerprints (a partitioned table's over all its partitions) of
 * the targets, then of a full backup's other tables, in the dump's snapshot: the same rows
 * pg_dump writes, read by this session while pg_dump reads them by its own.
 */
export async function fingerprintContents(tx: TxLike, schema: string, contents: DumpContents): Promise<void> {
  for (const [name, t] of Object.entries(contents.tables)) Object.assign(t, await fingerprintTable(tx, { schema, name }));
  for (const t of contents.otherTables) Object.assign(t, await fingerprintTable(tx, t));
}

/** The leaf partitions of each partitioned table among `tables` (by qualified name); plain tables are absent. */
export async function partitionsOf(tx: TxLike, tables: readonly QualifiedName[]): Promise<Map<string, QualifiedName[]>> {
  const out = new Map<string, QualifiedName[]>();
  type Row = { root_schema: string; root_name: string; schema: string | null; name: string | null };
  for (const r of await query<Row>(tx, partitionLeaves(tables))) {
    const key = qualified({ schema: r.root_schema, name: r.root_name });
    const leaves = out.get(key) ?? [];
    if (r.schema !== null && r.name !== null) leaves.push({ schema: r.schema, name: r.name });
    out.set(key, leaves);
  }
  return out;
}

/** Columns (name and SQL type, in table order) of each table, by qualified name. */
async function columnsOf(tx: TxLike, tables: readonly QualifiedName[]): Promise<Map<string, ManifestTable["columns"]>> {
  const bySchema = new Map<string, string[]>();
  for (const t of tables) bySchema.set(t.schema, [...(bySchema.get(t.schema) ?? []), t.name]);
  const out = new Map<string, ManifestTable["columns"]>();
  for (const [schema, names] of bySchema) {
    for (const [name, info] of await readCatalog(tx, schema, names)) {
      out.set(
        qualified({ schema, name }),
        info.columns.map((c) => ({ name: c.name, type: c.formatted })),
      );
    }
  }
  return out;
}
