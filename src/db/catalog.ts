import { EtlError } from "../errors.js";
import {
  type ColumnInfo,
  type ForeignKeyInfo,
  foreignKeys,
  leafPartitions,
  type TableInfo,
  tableColumns,
  uniqueKeys,
} from "../sql/catalog.js";
import { query, type TxLike } from "./prisma-like.js";

interface ColumnRow {
  table_name: string;
  name: string;
  type: string;
  type_kind: string;
  domain_base: string | null;
  is_array: boolean;
  formatted: string;
  not_null: boolean;
  has_default: boolean;
  is_identity: boolean;
  is_generated: boolean;
  before_insert_trigger: boolean;
  typmod: number;
  enum_values: string[] | null;
  sequence: string | null;
}

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

const filledByTrigger = (r: ColumnRow) => r.not_null && !r.has_default && !r.is_identity && !r.is_generated && r.before_insert_trigger;

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
  const [cols, keys, fks, parts] = await Promise.all([
    query<ColumnRow>(tx, tableColumns(schema, names)),
    query<{ table_name: string; primary: boolean; index_name: string; columns: string[] }>(tx, uniqueKeys(schema, names)),
    query<FkRow>(tx, foreignKeys(schema, names)),
    query<{ table_name: string; schema: string; name: string; leaf: boolean; key: string[] | null }>(tx, leafPartitions(schema, names)),
  ]);
  const out = new Map<string, TableInfo>();
  for (const name of names) {
    const partitions = parts.filter((p) => p.table_name === name && p.leaf).map((p) => ({ schema: p.schema, name: p.name }));
    out.set(name, {
      schema,
      name,
      columns: [],
      primaryKey: [],
      uniqueKeys: [],
      foreignKeys: [],
      referencedBy: [],
      partitioned: parts.some((p) => p.table_name === name),
      partitions,
      partitionKey: parts.find((p) => p.table_name === name && !p.leaf)?.key ?? [],
    });
  }
  for (const r of cols) {
    out.get(r.table_name)?.columns.push({
      name: r.name,
      type: r.type,
      typeKind: r.type_kind,
      domainBase: r.domain_base,
      isArray: r.is_array,
      formatted: r.formatted,
      nullable: !r.not_null,
      hasDefault: r.has_default || r.is_identity || filledByTrigger(r),
      filledByTrigger: filledByTrigger(r),
      isIdentity: r.is_identity,
      isGenerated: r.is_generated,
      ...lengthOf(r.type_kind === "d" ? (r.domain_base ?? r.type) : r.type, r.typmod),
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
