import { type QualifiedName, qualified } from "./quote.js";
import type { Statement } from "./statement.js";

export interface ColumnInfo {
  name: string;
  /** Base type name from pg_type (e.g. int4, numeric, timestamptz, varchar, or the enum's name). */
  type: string;
  /** 'b' base, 'e' enum, 'd' domain …; for arrays the element's kind. */
  typeKind: string;
  /** A domain's base type name (e.g. text for `CREATE DOMAIN email AS text …`); null otherwise. */
  domainBase?: string | null;
  isArray: boolean;
  /** The SQL type as Postgres prints it, e.g. `character varying(50)`; used for casts. */
  formatted: string;
  nullable: boolean;
  hasDefault: boolean;
  isIdentity: boolean;
  isGenerated: boolean;
  /**
   * NOT NULL without a default on a table with a BEFORE INSERT row trigger: a record may leave
   * it out, the trigger may fill it, and the database has the last word. Counted in `hasDefault`.
   */
  filledByTrigger: boolean;
  /** varchar/char length limit (a domain over one: the domain's). */
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
  /** A partitioned table: its rows live in {@link partitions}. */
  partitioned: boolean;
  /** Leaf partitions (of every level), in creation order; empty for an ordinary table. */
  partitions: QualifiedName[];
  /** The top level's partition key columns (expressions left out); empty for an ordinary table. */
  partitionKey: string[];
}

/** Catalog queries: pg_catalog only, ordinary and partitioned tables, no system schemas. */

/** Columns of the tables, in table order, with type facts, defaults and sequences. */
export function tableColumns(schema: string, tables: readonly string[]): Statement {
  return {
    text: `
SELECT c.relname AS table_name, a.attname AS name,
       COALESCE(et.typname, t.typname) AS type,
       COALESCE(et.typtype, t.typtype)::text AS type_kind,
       (SELECT bt.typname FROM pg_type bt WHERE bt.oid = COALESCE(et.typbasetype, t.typbasetype) AND bt.oid <> 0) AS domain_base,
       (t.typcategory = 'A') AS is_array,
       format_type(a.atttypid, a.atttypmod) AS formatted,
       a.attnotnull AS not_null, a.atthasdef AS has_default,
       (a.attidentity <> '') AS is_identity, (a.attgenerated <> '') AS is_generated,
       -- an enabled BEFORE INSERT row trigger (tgtype bits: 1 row, 2 before, 4 insert) may fill columns
       EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgrelid = c.oid AND NOT tg.tgisinternal AND tg.tgenabled <> 'D'
                 AND tg.tgtype::int & 7 = 7) AS before_insert_trigger,
       -- a domain's length or precision is its own (varchar(n) under the domain), not the column's
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod,
       (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
         WHERE e.enumtypid = COALESCE(et.oid, t.oid)) AS enum_values,
       COALESCE(pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname),
         -- DEFAULT nextval('seq') without OWNED BY: the default expression depends on the sequence
         (SELECT format('%I.%I', sn.nspname, s.relname) FROM pg_attrdef ad
            JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.refclassid = 'pg_class'::regclass
            JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
           WHERE ad.adrelid = c.oid AND ad.adnum = a.attnum LIMIT 1)) AS sequence
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type et ON t.typcategory = 'A' AND et.oid = t.typelem
WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r','p')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum`,
    values: [schema, [...tables]],
  };
}

/** Unique indexes (the primary key first) of the tables, by column list. */
export function uniqueKeys(schema: string, tables: readonly string[]): Statement {
  return {
    text: `
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
ORDER BY c.relname, i.indisprimary DESC, i.indexrelid`,
    values: [schema, [...tables]],
  };
}

/** The partitioned tables among `tables` (a row with `leaf` false) and their leaf partitions, every level down. */
export function leafPartitions(schema: string, tables: readonly string[]): Statement {
  return {
    text: `SELECT c.relname AS table_name, pn.nspname AS schema, p.relname AS name, t.isleaf AS leaf,
       CASE WHEN t.level = 0 THEN (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_partitioned_table pt
         CROSS JOIN LATERAL unnest(pt.partattrs::int2[]) WITH ORDINALITY k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = k.attnum WHERE pt.partrelid = c.oid) END AS key
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL pg_partition_tree(c.oid) t
JOIN pg_class p ON p.oid = t.relid JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind = 'p' AND (t.isleaf OR t.level = 0)
ORDER BY c.relname, p.oid`,
    values: [schema, [...tables]],
  };
}

/** FKs from the tables, and FKs from any table into them. */
export function foreignKeys(schema: string, tables: readonly string[]): Statement {
  return {
    text: `
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
WHERE con.contype = 'f' AND con.conparentid = 0 -- a partitioned table's FK, not its per-partition clones
  AND ((sn.nspname = $1 AND s.relname = ANY($2::text[])) OR (tn.nspname = $1 AND t.relname = ANY($2::text[])))
ORDER BY con.conname`,
    values: [schema, [...tables]],
  };
}

/**
 * SQL of the bulk rebuild (strategies/bulk-rebuild.ts): which secondary indexes and FKs the
 * targets have, and how to drop and recreate them. Definitions come from Postgres itself
 * (pg_get_indexdef / pg_get_constraintdef), so a rebuilt object is the object that was dropped.
 */
/**
 * Non-unique, non-partial-constraint secondary indexes of the given tables, with their definitions.
 * A partitioned table's index prints as `ON ONLY parent`, which would recreate it on the parent
 * alone (invalid, the partitions without it): it is recreated `ON parent`, on every partition.
 */
export function secondaryIndexes(schema: string, tables: readonly string[]): Statement {
  return {
    text: `SELECT t.relname AS table_name, ic.relname AS index_name,
       replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ' || quote_ident(n.nspname) || '.' || quote_ident(t.relname) || ' ',
               ' ON ' || quote_ident(n.nspname) || '.' || quote_ident(t.relname) || ' ') AS definition
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = $1 AND t.relname = ANY($2::text[]) AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY t.relname, ic.relname`,
    values: [schema, [...tables]],
  };
}

/** An FK's definition as Postgres prints it (`FOREIGN KEY (…) REFERENCES …`). */
export function constraintDefinition(table: QualifiedName, name: string): Statement {
  return {
    text: `SELECT pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c WHERE c.conrelid = to_regclass($1) AND c.conname = $2`,
    values: [qualified(table), name],
  };
}

/** True when the current role owns (or is a member of the owner of) every one of the tables. */
export function ownsTables(schema: string, tables: readonly string[]): Statement {
  return {
    text: `SELECT COALESCE(bool_and(pg_has_role(c.relowner, 'USAGE')), false) AS ok FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`,
    values: [schema, [...tables]],
  };
}

/** The materialized views among `names`, and whether each may be refreshed CONCURRENTLY. */
export function materializedViews(schema: string, names: readonly string[]): Statement {
  return {
    text: `SELECT c.relname AS name, c.relispopulated AND EXISTS (
         SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
       ) AS concurrently
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind = 'm'`,
    values: [schema, [...names]],
  };
}

/** A partitioned table's tree, parents before children: each partition's bound and, for inner nodes, its partition key. */
export function partitionTree(table: QualifiedName): Statement {
  return {
    text: `SELECT c.relname AS name, pc.relname AS parent, p.isleaf AS leaf, p.level,
       pg_get_expr(c.relpartbound, c.oid) AS bound, CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS key
FROM pg_partition_tree(to_regclass($1)) p JOIN pg_class c ON c.oid = p.relid LEFT JOIN pg_class pc ON pc.oid = p.parentrelid
ORDER BY p.level, c.oid`,
    values: [qualified(table)],
  };
}

/**
 * The BEFORE INSERT row triggers of `table` that fire for a normal session (enabled, not replica-only;
 * not those Postgres makes for FKs), each
 * rewritten to be created on the TEMP table `onTemp` instead: a probe that stands for the
 * table fills the columns they fill.
 */
export function beforeInsertTriggers(table: QualifiedName, onTemp: string): Statement {
  return {
    text: `SELECT replace(pg_get_triggerdef(tg.oid), ' ON ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ',
               ' ON pg_temp.' || quote_ident($2) || ' ') AS definition
FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE tg.tgrelid = to_regclass($1) AND NOT tg.tgisinternal AND tg.tgenabled IN ('O', 'A') AND tg.tgtype::int & 7 = 7
ORDER BY tg.tgname`,
    values: [qualified(table), onTemp],
  };
}

/** The columns a CHECK or EXCLUDE constraint of `table` is on. */
export function constraintColumns(table: QualifiedName, constraint: string): Statement {
  return {
    text: `SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns FROM pg_constraint c
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
WHERE c.conrelid = to_regclass($1) AND c.conname = $2`,
    values: [qualified(table), constraint],
  };
}
