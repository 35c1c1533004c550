import { EtlError } from "../errors.js";
import { query, type TxLike } from "../db/prisma-like.js";
import type { QualifiedName } from "./quote.js";

export interface ColumnInfo {
  name: string;
  /** Base type name from pg_type (e.g. int4, numeric, timestamptz, varchar, or the enum's name). */
  type: string;
  /** 'b' base, 'e' enum, 'd' domain …; for arrays the element's kind. */
  typeKind: string;
  isArray: boolean;
  /** The SQL type as Postgres prints it, e.g. `character varying(50)`; used for casts. */
  formatted: string;
  nullable: boolean;
  hasDefault: boolean;
  isIdentity: boolean;
  isGenerated: boolean;
  /** varchar/char length limit. */
  maxLength: number | null;
  numericPrecision: number | null;
  numericScale: number | null;
  enumValues: string[] | null;
  /** Owned sequence (serial / identity), if any. */
  sequence: string | null;
}

export interface ForeignKeyInfo {
  name: string;
  table: QualifiedName;
  columns: string[];
  references: QualifiedName;
  referencedColumns: string[];
  onDelete: "a" | "r" | "c" | "n" | "d";
  deferrable: boolean;
}

export interface TableInfo extends QualifiedName {
  columns: ColumnInfo[];
  primaryKey: string[];
  /** Every unique constraint or unique index (including the PK), by index name. */
  uniqueKeys: { name: string; columns: string[] }[];
  /** FKs from this table to others (or itself). */
  foreignKeys: ForeignKeyInfo[];
  /** FKs from other tables (or itself) to this table. */
  referencedBy: ForeignKeyInfo[];
}

interface ColumnRow {
  table_name: string;
  name: string;
  type: string;
  type_kind: string;
  is_array: boolean;
  formatted: string;
  not_null: boolean;
  has_default: boolean;
  is_identity: boolean;
  is_generated: boolean;
  typmod: number;
  enum_values: string[] | null;
  sequence: string | null;
}

/** Catalog queries: pg_catalog only, ordinary and partitioned tables, no system schemas. */
const COLUMNS_SQL = `
SELECT c.relname AS table_name, a.attname AS name,
       COALESCE(et.typname, t.typname) AS type,
       COALESCE(et.typtype, t.typtype)::text AS type_kind,
       (t.typcategory = 'A') AS is_array,
       format_type(a.atttypid, a.atttypmod) AS formatted,
       a.attnotnull AS not_null, a.atthasdef AS has_default,
       (a.attidentity <> '') AS is_identity, (a.attgenerated <> '') AS is_generated,
       a.atttypmod AS typmod,
       (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
         WHERE e.enumtypid = COALESCE(et.oid, t.oid)) AS enum_values,
       pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) AS sequence
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type et ON t.typcategory = 'A' AND et.oid = t.typelem
WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r','p')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum`;

const KEYS_SQL = `
SELECT c.relname AS table_name, i.indisprimary AS primary, ic.relname AS index_name,
       array_agg(a.attname::text ORDER BY k.ord) AS columns
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND i.indisunique
  AND i.indpred IS NULL AND i.indexprs IS NULL
GROUP BY c.relname, ic.relname, i.indexrelid, i.indisprimary
ORDER BY c.relname, i.indisprimary DESC, i.indexrelid`;

const FKS_SQL = `
SELECT con.conname AS name,
       sn.nspname AS schema, s.relname AS table_name,
       tn.nspname AS ref_schema, t.relname AS ref_table,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_columns,
       con.confdeltype::text AS on_delete, con.condeferrable AS deferrable
FROM pg_constraint con
JOIN pg_class s ON s.oid = con.conrelid JOIN pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_class t ON t.oid = con.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE con.contype = 'f'
  AND ((sn.nspname = $1 AND s.relname = ANY($2::text[])) OR (tn.nspname = $1 AND t.relname = ANY($2::text[])))
ORDER BY con.conname`;

interface FkRow {
  name: string;
  schema: string;
  table_name: string;
  ref_schema: string;
  ref_table: string;
  columns: string[];
  ref_columns: string[];
  on_delete: ForeignKeyInfo["onDelete"];
  deferrable: boolean;
}

function lengthOf(type: string, typmod: number): Pick<ColumnInfo, "maxLength" | "numericPrecision" | "numericScale"> {
  if (typmod < 0) return { maxLength: null, numericPrecision: null, numericScale: null };
  if (type === "varchar" || type === "bpchar") return { maxLength: typmod - 4, numericPrecision: null, numericScale: null };
  if (type === "numeric") {
    const m = typmod - 4;
    return { maxLength: null, numericPrecision: (m >> 16) & 0xffff, numericScale: m & 0xffff };
  }
  return { maxLength: null, numericPrecision: null, numericScale: null };
}

/**
 * Reads tables, columns, keys and FKs of the given tables in one schema.
 * A table that does not exist is a `CATALOG_MISMATCH` error naming it.
 */
export async function readCatalog(tx: TxLike, schema: string, tables: readonly string[]): Promise<Map<string, TableInfo>> {
  const names = [...tables];
  const [cols, keys, fks] = await Promise.all([
    query<ColumnRow>(tx, { text: COLUMNS_SQL, values: [schema, names] }),
    query<{ table_name: string; primary: boolean; index_name: string; columns: string[] }>(tx, { text: KEYS_SQL, values: [schema, names] }),
    query<FkRow>(tx, { text: FKS_SQL, values: [schema, names] }),
  ]);
  const out = new Map<string, TableInfo>();
  for (const name of names) {
    out.set(name, { schema, name, columns: [], primaryKey: [], uniqueKeys: [], foreignKeys: [], referencedBy: [] });
  }
  for (const r of cols) {
    out.get(r.table_name)?.columns.push({
      name: r.name,
      type: r.type,
      typeKind: r.type_kind,
      isArray: r.is_array,
      formatted: r.formatted,
      nullable: !r.not_null,
      hasDefault: r.has_default || r.is_identity,
      isIdentity: r.is_identity,
      isGenerated: r.is_generated,
      ...lengthOf(r.type, r.typmod),
      enumValues: r.enum_values,
      sequence: r.sequence,
    });
  }
  for (const k of keys) {
    const t = out.get(k.table_name);
    if (!t) continue;
    if (k.primary) t.primaryKey = k.columns;
    t.uniqueKeys.push({ name: k.index_name, columns: k.columns });
  }
  for (const f of fks) {
    const fk: ForeignKeyInfo = {
      name: f.name,
      table: { schema: f.schema, name: f.table_name },
      columns: f.columns,
      references: { schema: f.ref_schema, name: f.ref_table },
      referencedColumns: f.ref_columns,
      onDelete: f.on_delete,
      deferrable: f.deferrable,
    };
    if (f.schema === schema && out.has(f.table_name)) out.get(f.table_name)?.foreignKeys.push(fk);
    if (f.ref_schema === schema && out.has(f.ref_table)) out.get(f.ref_table)?.referencedBy.push(fk);
  }
  const missing = [...out.values()].filter((t) => t.columns.length === 0).map((t) => `${schema}.${t.name}`);
  if (missing.length) {
    throw new EtlError("CATALOG_MISMATCH", `table(s) not found in the database: ${missing.join(", ")}`, {
      step: "preflight",
      next: "apply your migrations (prisma migrate deploy) or fix the release's table mapping",
    });
  }
  return out;
}
