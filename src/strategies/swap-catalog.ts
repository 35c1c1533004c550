import { query, type TxLike } from "../db/prisma-like.js";
import type { QualifiedName } from "../sql/quote.js";
import type { ForeignKeyDef } from "../sql/staging-statements.js";

/**
 * Catalog reads of the swap (pg_catalog only): what a table carries that a new table must
 * carry too, and what depends on the table's OID. Every query takes `$1` = schema and
 * `$2` = table names.
 */

/** Table-level facts of a swap target. */
export interface TableFacts {
  name: string;
  owner: string;
  /** Can the current role act as the owner (needed to drop and replace the table)? */
  mayOwn: boolean;
  unlogged: boolean;
  tablespace: string | null;
  comment: string | null;
  options: [string, string][];
  hasToastOptions: boolean;
  replicaIdentity: "d" | "n" | "f" | "i";
  replicaIndex: string | null;
  /** Refusals that are not pg_depend entries: partitioning, inheritance, typed tables, row security. */
  shapeProblems: string[];
}

const FACTS_SQL = `
SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner, pg_has_role(c.relowner, 'MEMBER') AS may_own,
       c.relpersistence = 'u' AS unlogged, ts.spcname AS tablespace, obj_description(c.oid, 'pg_class') AS comment,
       COALESCE(c.reloptions, '{}') AS options,
       COALESCE((SELECT cardinality(t.reloptions) > 0 FROM pg_class t WHERE t.oid = c.reltoastrelid), false) AS toast_options,
       c.relreplident::text AS replica_identity,
       (SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident) AS replica_index,
       c.relkind = 'p' AS partitioned, c.relispartition AS partition, c.reloftype <> 0 AS typed,
       c.relrowsecurity AS row_security, c.relforcerowsecurity AS force_row_security,
       EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = c.oid OR h.inhparent = c.oid) AS inherits
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p')`;

interface FactsRow {
  name: string;
  owner: string;
  may_own: boolean;
  unlogged: boolean;
  tablespace: string | null;
  comment: string | null;
  options: string[];
  toast_options: boolean;
  replica_identity: TableFacts["replicaIdentity"];
  replica_index: string | null;
  partitioned: boolean;
  partition: boolean;
  typed: boolean;
  row_security: boolean;
  force_row_security: boolean;
  inherits: boolean;
}

const splitOption = (o: string): [string, string] => {
  const i = o.indexOf("=");
  return i < 0 ? [o, ""] : [o.slice(0, i), o.slice(i + 1)];
};

export async function readTableFacts(tx: TxLike, schema: string, names: readonly string[]): Promise<Map<string, TableFacts>> {
  const rows = await query<FactsRow>(tx, { text: FACTS_SQL, values: [schema, [...names]] });
  return new Map(
    rows.map((r) => {
      const shapeProblems = [
        r.partitioned && "it is partitioned",
        r.partition && "it is a partition",
        r.inherits && "it takes part in table inheritance",
        r.typed && "it is a typed table (OF type)",
        r.row_security && "row level security is enabled on it",
        r.force_row_security && "row level security is forced on it",
        r.toast_options && "its TOAST table has storage parameters",
      ].filter((p): p is string => typeof p === "string");
      return [
        r.name,
        {
          name: r.name,
          owner: r.owner,
          mayOwn: r.may_own,
          unlogged: r.unlogged,
          tablespace: r.tablespace,
          comment: r.comment,
          options: r.options.map(splitOption),
          hasToastOptions: r.toast_options,
          replicaIdentity: r.replica_identity,
          replicaIndex: r.replica_index,
          shapeProblems,
        },
      ];
    }),
  );
}

/** Per-column settings LIKE does not copy: attribute options (n_distinct …) and statistics targets. */
export interface ColumnSettings {
  table: string;
  column: string;
  options: [string, string][];
  statisticsTarget: number | null;
}

const COLUMN_SETTINGS_SQL = `
SELECT c.relname AS table_name, a.attname AS column, COALESCE(a.attoptions, '{}') AS options,
       NULLIF(COALESCE(a.attstattarget::int, -1), -1) AS statistics_target
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND a.attnum > 0 AND NOT a.attisdropped
  AND (a.attoptions IS NOT NULL OR COALESCE(a.attstattarget::int, -1) <> -1)`;

export async function readColumnSettings(tx: TxLike, schema: string, names: readonly string[]): Promise<ColumnSettings[]> {
  const rows = await query<{ table_name: string; column: string; options: string[]; statistics_target: number | null }>(tx, {
    text: COLUMN_SETTINGS_SQL,
    values: [schema, [...names]],
  });
  return rows.map((r) => ({
    table: r.table_name,
    column: r.column,
    options: r.options.map(splitOption),
    statisticsTarget: r.statistics_target === null ? null : Number(r.statistics_target),
  }));
}

/** A sequence owned by a column: serial (`identity: false`) or identity. */
export interface OwnedSequence {
  table: string;
  column: string;
  sequence: QualifiedName;
  identity: boolean;
}

const OWNED_SEQUENCES_SQL = `
SELECT t.relname AS table_name, a.attname AS column, sn.nspname AS seq_schema, s.relname AS seq_name, d.deptype = 'i' AS identity
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
  AND n.nspname = $1 AND t.relname = ANY($2::text[])
ORDER BY t.relname, a.attnum`;

export async function readOwnedSequences(tx: TxLike, schema: string, names: readonly string[]): Promise<OwnedSequence[]> {
  const rows = await query<{ table_name: string; column: string; seq_schema: string; seq_name: string; identity: boolean }>(tx, {
    text: OWNED_SEQUENCES_SQL,
    values: [schema, [...names]],
  });
  return rows.map((r) => ({
    table: r.table_name,
    column: r.column,
    sequence: { schema: r.seq_schema, name: r.seq_name },
    identity: r.identity,
  }));
}

// confdelsetcols is new in PostgreSQL 15: read through to_jsonb so older servers answer too.
const FOREIGN_KEYS_SQL = `
SELECT s.relname AS table_name, con.conname AS name, tn.nspname AS ref_schema, t.relname AS ref_table,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_columns,
       COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord)
          FROM jsonb_array_elements_text(CASE jsonb_typeof(to_jsonb(con) -> 'confdelsetcols') WHEN 'array' THEN to_jsonb(con) -> 'confdelsetcols' ELSE '[]' END)
               WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum::int2), '{}') AS set_columns,
       con.confupdtype::text AS on_update, con.confdeltype::text AS on_delete, con.confmatchtype = 'f' AS match_full,
       con.condeferrable AS deferrable, con.condeferred AS deferred
FROM pg_constraint con
JOIN pg_class s ON s.oid = con.conrelid JOIN pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_class t ON t.oid = con.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE con.contype = 'f' AND sn.nspname = $1 AND s.relname = ANY($2::text[])
ORDER BY s.relname, con.conname`;

/** An FK of a swap target, complete enough to be recreated on the new table. */
export interface OutgoingForeignKey {
  table: string;
  references: QualifiedName;
  def: ForeignKeyDef;
}

export async function readForeignKeys(tx: TxLike, schema: string, names: readonly string[]): Promise<OutgoingForeignKey[]> {
  const rows = await query<{
    table_name: string;
    name: string;
    ref_schema: string;
    ref_table: string;
    columns: string[];
    ref_columns: string[];
    set_columns: string[];
    on_update: string;
    on_delete: string;
    match_full: boolean;
    deferrable: boolean;
    deferred: boolean;
  }>(tx, { text: FOREIGN_KEYS_SQL, values: [schema, [...names]] });
  return rows.map((r) => ({
    table: r.table_name,
    references: { schema: r.ref_schema, name: r.ref_table },
    def: {
      name: r.name,
      columns: r.columns,
      referencedColumns: r.ref_columns,
      onUpdate: r.on_update,
      onDelete: r.on_delete,
      onDeleteColumns: r.set_columns,
      matchFull: r.match_full,
      deferrable: r.deferrable,
      initiallyDeferred: r.deferred,
    },
  }));
}

/**
 * Everything that depends on a target's OID (or its row type) and would not survive the
 * swap: views, rules, triggers, policies, publications, FKs from tables outside the swap,
 * functions and columns using the row type, … The table's own parts are left out: columns'
 * defaults, constraints, indexes, extended statistics and owned sequences are rebuilt or
 * carried over, as are FKs among the swapped tables and the triggers that implement FKs.
 */
const DEPENDENTS_SQL = `
WITH t AS (
  SELECT c.oid, c.relname, c.reltype, c.reltoastrelid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = ANY($2::text[])
)
SELECT DISTINCT t.relname AS table_name,
       CASE WHEN d.classid = 'pg_rewrite'::regclass AND r.rulename = '_RETURN'
            THEN (CASE v.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END) || (v.oid::regclass)::text
            ELSE pg_describe_object(d.classid, d.objid, 0) END AS what
FROM pg_depend d
JOIN t ON (d.refclassid = 'pg_class'::regclass AND d.refobjid = t.oid) OR (d.refclassid = 'pg_type'::regclass AND d.refobjid = t.reltype)
LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
LEFT JOIN pg_class v ON v.oid = r.ev_class
WHERE NOT (d.classid = 'pg_type'::regclass AND d.deptype = 'i')
  AND NOT (d.classid = 'pg_attrdef'::regclass AND EXISTS (SELECT 1 FROM pg_attrdef x WHERE x.oid = d.objid AND x.adrelid = t.oid))
  AND NOT (d.classid = 'pg_constraint'::regclass AND EXISTS (SELECT 1 FROM pg_constraint x WHERE x.oid = d.objid AND x.conrelid IN (SELECT oid FROM t)))
  AND NOT (d.classid = 'pg_statistic_ext'::regclass AND EXISTS (SELECT 1 FROM pg_statistic_ext x WHERE x.oid = d.objid AND x.stxrelid = t.oid))
  AND NOT (d.classid = 'pg_trigger'::regclass AND EXISTS (SELECT 1 FROM pg_trigger x WHERE x.oid = d.objid AND x.tgisinternal AND x.tgconstraint <> 0))
  AND NOT (d.classid = 'pg_class'::regclass AND (
        d.objid = t.reltoastrelid
        OR d.objid IN (SELECT indexrelid FROM pg_index WHERE indrelid = t.oid)
        OR (d.deptype IN ('a', 'i') AND EXISTS (SELECT 1 FROM pg_class s WHERE s.oid = d.objid AND s.relkind = 'S'))))
ORDER BY 1, 2`;

export async function readDependents(tx: TxLike, schema: string, names: readonly string[]): Promise<{ table: string; what: string }[]> {
  const rows = await query<{ table_name: string; what: string }>(tx, { text: DEPENDENTS_SQL, values: [schema, [...names]] });
  return rows.map((r) => ({ table: r.table_name, what: r.what }));
}

/** Indexes and extended statistics with a name-free description of their shape, oldest first. */
export interface NamedShape {
  table: string;
  kind: "INDEX" | "STATISTICS";
  name: QualifiedName;
  shape: string;
}

const SHAPES_SQL = `
SELECT c.relname AS table_name, 'INDEX' AS kind, n.nspname AS schema, ic.relname AS name, ic.oid::int8 AS oid,
       concat_ws('|', am.amname, i.indkey::text, i.indclass::text, i.indcollation::text, i.indoption::text, i.indisunique, i.indisprimary,
                 i.indisexclusion, i.indimmediate, to_jsonb(i) ->> 'indnullsnotdistinct', pg_get_expr(i.indexprs, i.indrelid), pg_get_expr(i.indpred, i.indrelid)) AS shape
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = ANY($2::text[])
UNION ALL
SELECT c.relname, 'STATISTICS', sn.nspname, s.stxname, s.oid::int8,
       concat_ws('|', s.stxkind::text, s.stxkeys::text, to_jsonb(s) ->> 'stxexprs')
FROM pg_statistic_ext s
JOIN pg_namespace sn ON sn.oid = s.stxnamespace
JOIN pg_class c ON c.oid = s.stxrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = ANY($2::text[])
ORDER BY 1, 2, 5`;

export async function readShapes(tx: TxLike, schema: string, names: readonly string[]): Promise<NamedShape[]> {
  const rows = await query<{ table_name: string; kind: NamedShape["kind"]; schema: string; name: string; shape: string }>(tx, {
    text: SHAPES_SQL,
    values: [schema, [...names]],
  });
  return rows.map((r) => ({ table: r.table_name, kind: r.kind, name: { schema: r.schema, name: r.name }, shape: r.shape }));
}

/** One privilege held by a role other than the owner (grantee null = PUBLIC), on the table or one column. */
export interface Grant {
  privilege: string;
  grantee: string | null;
  grantable: boolean;
  column: string | null;
}

/** Table and column privileges as (grantor, grantee, privilege, grantable, column); NULL ACLs spelled out as their defaults. */
const aclRows = (param: string) => `
SELECT pg_get_userbyid(x.grantor) AS grantor, CASE WHEN x.grantee = 0 THEN NULL ELSE pg_get_userbyid(x.grantee) END AS grantee,
       x.privilege_type AS privilege, x.is_grantable AS grantable, NULL::text AS column, x.grantee = c.relowner AS owner
FROM pg_class c, aclexplode(COALESCE(c.relacl, acldefault('r', c.relowner))) x WHERE c.oid = ${param}::regclass
UNION ALL
SELECT pg_get_userbyid(x.grantor), CASE WHEN x.grantee = 0 THEN NULL ELSE pg_get_userbyid(x.grantee) END,
       x.privilege_type, x.is_grantable, a.attname::text, x.grantee = c.relowner
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped, aclexplode(a.attacl) x
WHERE c.oid = ${param}::regclass`;

export async function readGrants(tx: TxLike, table: string): Promise<Grant[]> {
  const rows = await query<Grant & { owner: boolean }>(tx, {
    text: `SELECT * FROM (${aclRows("$1")}) g WHERE NOT g.owner ORDER BY g.column NULLS FIRST, g.grantee, g.privilege`,
    values: [table],
  });
  return rows.map((r) => ({ privilege: r.privilege, grantee: r.grantee, grantable: r.grantable, column: r.column }));
}

/** Privileges one table has and the other lacks, both ways, as readable lines. */
export async function aclDifferences(tx: TxLike, a: string, b: string): Promise<string[]> {
  const rows = await query<{
    side: string;
    grantor: string;
    grantee: string | null;
    privilege: string;
    grantable: boolean;
    column: string | null;
  }>(tx, {
    text: `WITH a AS (${aclRows("$1")}), b AS (${aclRows("$2")})
SELECT 'missing' AS side, * FROM (SELECT grantor, grantee, privilege, grantable, "column" FROM a EXCEPT SELECT grantor, grantee, privilege, grantable, "column" FROM b) m
UNION ALL
SELECT 'extra', * FROM (SELECT grantor, grantee, privilege, grantable, "column" FROM b EXCEPT SELECT grantor, grantee, privilege, grantable, "column" FROM a) e`,
    values: [a, b],
  });
  return rows.map(
    (r) =>
      `${r.side} ${r.privilege}${r.column ? ` (${r.column})` : ""} to ${r.grantee ?? "PUBLIC"} granted by ${r.grantor}${r.grantable ? " with grant option" : ""}`,
  );
}
