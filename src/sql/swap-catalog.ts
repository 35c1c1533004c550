import type { Statement } from "./statement.js";

/**
 * Catalog reads of the swap strategy (pg_catalog only): what a table carries that a new
 * table must carry too, and what depends on the table's OID. Every builder takes the schema
 * and the table names.
 */

export function tableFacts(schema: string, tables: readonly string[]): Statement {
  return {
    text: `
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
WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p')`,
    values: [schema, [...tables]],
  };
}

export function columnSettings(schema: string, tables: readonly string[]): Statement {
  return {
    text: `
SELECT c.relname AS table_name, a.attname AS column, COALESCE(a.attoptions, '{}') AS options,
       NULLIF(COALESCE(a.attstattarget::int, -1), -1) AS statistics_target
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND a.attnum > 0 AND NOT a.attisdropped
  AND (a.attoptions IS NOT NULL OR COALESCE(a.attstattarget::int, -1) <> -1)`,
    values: [schema, [...tables]],
  };
}

export function ownedSequences(schema: string, tables: readonly string[]): Statement {
  return {
    text: `
SELECT t.relname AS table_name, a.attname AS column, sn.nspname AS seq_schema, s.relname AS seq_name, d.deptype = 'i' AS identity
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
  AND n.nspname = $1 AND t.relname = ANY($2::text[])
ORDER BY t.relname, a.attnum`,
    values: [schema, [...tables]],
  };
}

// confdelsetcols is new in PostgreSQL 15: read through to_jsonb so older servers answer too.
export function outgoingForeignKeys(schema: string, tables: readonly string[]): Statement {
  return {
    text: `
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
ORDER BY s.relname, con.conname`,
    values: [schema, [...tables]],
  };
}

/**
 * Everything that depends on a target's OID (or its row type) and would not survive the
 * swap: views, rules, triggers, policies, publications, FKs from tables outside the swap,
 * functions and columns using the row type, … The table's own parts are left out: columns'
 * defaults, constraints, indexes, extended statistics and owned sequences are rebuilt or
 * carried over, as are FKs among the swapped tables and the triggers that implement FKs.
 */
export function oidDependents(schema: string, tables: readonly string[]): Statement {
  return {
    text: `
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
ORDER BY 1, 2`,
    values: [schema, [...tables]],
  };
}

export function indexAndStatisticsShapes(schema: string, tables: readonly string[]): Statement {
  return {
    text: `
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
ORDER BY 1, 2, 5`,
    values: [schema, [...tables]],
  };
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

/** Privileges held by roles other than the owner of `table`, on it or its columns. */
export function grantsOf(table: string): Statement {
  return {
    text: `SELECT * FROM (${aclRows("$1")}) g WHERE NOT g.owner ORDER BY g.column NULLS FIRST, g.grantee, g.privilege`,
    values: [table],
  };
}

/** Privileges one table has and the other lacks, both ways. */
export function aclDifference(a: string, b: string): Statement {
  return {
    text: `WITH a AS (${aclRows("$1")}), b AS (${aclRows("$2")})
SELECT 'missing' AS side, * FROM (SELECT grantor, grantee, privilege, grantable, "column" FROM a EXCEPT SELECT grantor, grantee, privilege, grantable, "column" FROM b) m
UNION ALL
SELECT 'extra', * FROM (SELECT grantor, grantee, privilege, grantable, "column" FROM b EXCEPT SELECT grantor, grantee, privilege, grantable, "column" FROM a) e`,
    values: [a, b],
  };
}
