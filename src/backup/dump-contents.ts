import { type DatabaseIdentity, readDatabaseIdentity } from "../db/database-identity.js";
import { fingerprintTable } from "../db/fingerprint.js";
import { query, type TxLike } from "../db/prisma-like.js";
import { databaseTables, partitionLeaves } from "../sql/backup-statements.js";
import { readCatalog } from "../db/catalog.js";
import { type QualifiedName, qualified } from "../sql/quote.js";
import type { BackupManifest, ManifestTable } from "./manifest.js";

/** What a backup holds, read in the dump's snapshot. */
export interface DumpContents {
  identity: DatabaseIdentity;
  tables: BackupManifest["tables"];
  /** Mode `full`: every other table; its rows and fingerprint are filled in by {@link fingerprintOtherTables}. */
  otherTables: BackupManifest["otherTables"];
  /** Every TABLE DATA entry the dump must hold: plain tables and the leaf partitions of partitioned ones. */
  dataEntries: QualifiedName[];
}

/**
 * Reads, inside the snapshot the dump will use, the database's identity and, for each table
 * the backup covers (the targets; in mode `full` also every other table of the database), its
 * columns and leaf partitions, and the targets' row counts and fingerprints (a partitioned
 * table's over all its partitions). Reading the targets holds their ACCESS SHARE locks for
 * the whole backup; the other tables of a full backup are read after pg_dump (same snapshot),
 * so a lock held on one of them is waited for in pg_dump, where it shows.
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
  for (const t of mine) {
    const fp = await fingerprintTable(tx, t);
    tables[t.name] = entry(t, fp.rows, fp.hash);
  }
  const otherTables = others.map((t) => ({ schema: t.schema, name: t.name, ...entry(t, 0, "0") }));
  return { identity, tables, otherTables, dataEntries: all.flatMap((t) => partitions.get(qualified(t)) ?? [t]) };
}

/** Fills in the other tables' row counts and fingerprints, in the same snapshot. */
export async function fingerprintOtherTables(tx: TxLike, contents: DumpContents): Promise<void> {
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
