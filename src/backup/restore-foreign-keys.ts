import { query, type TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { orphanedRows, referencingForeignKeys } from "../sql/backup-statements.js";
import type { QualifiedName } from "../sql/quote.js";

/** An FK that references a restored table, as `referencingForeignKeys` reads it. */
export interface ReferencingForeignKey {
  name: string;
  schema: string;
  table: string;
  ref_schema: string;
  ref_table: string;
  columns: string[];
  ref_columns: string[];
  /** The child's primary key; null when it has none. */
  key: string[] | null;
  /** The child is one of the restored tables (or their partitions). */
  inside: boolean;
  alterable: boolean;
  owner: string;
  definition: string;
}

/** Rows of a child that would have no parent after the restore. */
export interface Orphans {
  table: string;
  foreignKey: string;
  references: string;
  total: number;
  /** Up to 10: the row's primary key and its FK value, as JSON text. */
  rows: { key: string | null; value: string }[];
}

export const childOf = (fk: ReferencingForeignKey): QualifiedName => ({ schema: fk.schema, name: fk.table });
export const fkLabel = (fk: ReferencingForeignKey) => `${fk.schema}.${fk.table}.${fk.name}`;

/**
 * The FKs that reference `tables` (or their partitions), read on `db`: a pg connection in the
 * restore's checks, or the restore's own psql session once it holds its locks.
 *
 * @example const fks = await readReferencingForeignKeys(session, [{ schema: "public", name: "players" }])
 */
export async function readReferencingForeignKeys(db: TxLike, tables: readonly QualifiedName[]): Promise<ReferencingForeignKey[]> {
  if (!tables.length) return [];
  const [row] = await query<{ fks: string }>(db, referencingForeignKeys(tables));
  return JSON.parse(row?.fks ?? "[]") as ReferencingForeignKey[];
}

/**
 * Refuses, before anything changes, when the restore would have to drop and re-add an FK on a
 * table the current role may not alter (only its owner, or a member of the owning role, may).
 */
export function assertMayAlter(fks: readonly ReferencingForeignKey[], backupId: string): void {
  const blocked = fks.filter((f) => !f.alterable);
  if (!blocked.length) return;
  const list = blocked.map((f) => `${f.name} on ${f.schema}.${f.table} (owner ${f.owner}) → ${f.ref_schema}.${f.ref_table}`);
  throw new EtlError(
    "RESTORE_NOT_OWNER",
    `restoring ${backupId} empties tables that other tables reference; to keep those rows exactly as they are (never cascaded, never set to NULL), the restore takes the referencing FKs off for its transaction and puts them back, validated, before COMMIT, which only the tables' owners may do. This role may not for: ${list.join("; ")}. Nothing was restored`,
    {
      step: "restore",
      data: "untouched",
      meta: { foreignKeys: blocked.map(fkLabel) },
      next: `run the restore as the owner of ${[...new Set(blocked.map((f) => `${f.schema}.${f.table}`))].join(", ")} (or a member of that role), or restore a backup that includes those tables (e.g. one taken with --backup full)`,
    },
  );
}

/**
 * For each FK that could not be put back, the rows of its table whose value has no parent in
 * the restored data: up to 10 by primary key and FK value, and how many there are.
 */
export async function findOrphans(db: TxLike, failed: readonly ReferencingForeignKey[]): Promise<Orphans[]> {
  const out: Orphans[] = [];
  for (const fk of failed) {
    const rows = await query<{ total: string | number; key: string | null; value: string }>(
      db,
      orphanedRows({
        table: childOf(fk),
        columns: fk.columns,
        references: { schema: fk.ref_schema, name: fk.ref_table },
        referencedColumns: fk.ref_columns,
        key: fk.key ?? [],
      }),
    );
    out.push({
      table: `${fk.schema}.${fk.table}`,
      foreignKey: fk.name,
      references: `${fk.ref_schema}.${fk.ref_table}`,
      total: Number(rows[0]?.total ?? 0),
      rows: rows.map((r) => ({ key: r.key, value: r.value })),
    });
  }
  return out;
}

/** RESTORE_WOULD_ORPHAN, naming the rows: table, key, FK, and the parent value the backup does not hold. */
export function orphanError(backupId: string, orphans: readonly Orphans[]): EtlError {
  const lines = orphans.flatMap((o) => [
    ...o.rows.map(
      (r) =>
        `${o.table} row ${r.key ?? "(no primary key)"} has ${r.value} (FK ${o.foreignKey}), which ${o.references} does not hold in the backup`,
    ),
    ...(o.total > o.rows.length ? [`… and ${o.total - o.rows.length} more rows of ${o.table}`] : []),
  ]);
  const tables = [...new Set(orphans.map((o) => o.table))];
  return new EtlError(
    "RESTORE_WOULD_ORPHAN",
    `restoring ${backupId} would leave rows of ${tables.join(", ")} (not in the backup) without their parent; rolled back, nothing was restored:\n  ${lines.join("\n  ")}`,
    {
      step: "restore",
      data: "rolled back; database unchanged",
      meta: { orphans },
      next: `these rows reference parents written after the backup: delete or re-point them if they should go, or restore a backup that also holds ${tables.join(", ")} (a release with those tables, or --backup full); then run: atomic-etl restore ${backupId}`,
    },
  );
}
