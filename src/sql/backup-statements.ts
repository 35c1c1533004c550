import type { Statement } from "./statement.js";
import { type QualifiedName, qualified, quoteIdent, relationOid } from "./quote.js";

/**
 * SQL of backups and restores. Pure `{ text, values }` builders. The restore runs in a psql
 * session, which has no bind parameters: every builder it uses takes only names from the
 * catalog or the manifest, quoted by `quoteIdent`, and no values at all.
 */

/** Server version facts, read before the dump to choose and check pg_dump. */
export function serverVersion(): Statement {
  return { text: "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n", values: [] };
}

/** The snapshot the fingerprints, the catalog facts and pg_dump all share. */
export function beginSnapshot(): Statement {
  return { text: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", values: [] };
}

export function exportSnapshot(): Statement {
  return { text: "SELECT pg_export_snapshot() AS s", values: [] };
}

export function commit(): Statement {
  return { text: "COMMIT", values: [] };
}

/** The restore transaction's id, logged so an unconfirmed COMMIT can be resolved. */
export function currentTxid(): Statement {
  return { text: "SELECT txid_current()::text AS txid", values: [] };
}

/** As pg_restore's own script does: every name the session prints (constraint definitions) comes out schema-qualified. */
export function emptySearchPath(): Statement {
  return { text: "SELECT pg_catalog.set_config('search_path', '', false)", values: [] };
}

/**
 * The partitioned tables among `tables`, each with its leaf partitions (ordinary tables, at any
 * depth): pg_dump keeps a partitioned table's rows in its leaves' TABLE DATA. A partitioned
 * table without partitions comes back once, with a null leaf; plain tables do not come back.
 *
 * @example partitionLeaves([{ schema: "public", name: "measurements" }]) // => rows { root_schema, root_name, schema, name }
 */
export function partitionLeaves(tables: readonly QualifiedName[]): Statement {
  return {
    text: `SELECT r.schema AS root_schema, r.name AS root_name, lv.schema, lv.name
FROM unnest($1::text[], $2::text[]) AS r(schema, name)
JOIN pg_namespace rn ON rn.nspname = r.schema
JOIN pg_class rc ON rc.relnamespace = rn.oid AND rc.relname = r.name AND rc.relkind = 'p'
LEFT JOIN LATERAL (
  SELECT ln.nspname::text AS schema, l.relname::text AS name
  FROM pg_partition_tree(rc.oid) t
  JOIN pg_class l ON l.oid = t.relid AND l.relkind = 'r'
  JOIN pg_namespace ln ON ln.oid = l.relnamespace
) lv ON true
ORDER BY 1, 2, 3, 4`,
    values: [tables.map((t) => t.schema), tables.map((t) => t.name)],
  };
}

/**
 * Every table a whole-database pg_dump holds data for: ordinary and partitioned tables that are
 * not partitions themselves, not temporary, not in a system schema, not part of an extension.
 */
export function databaseTables(): Statement {
  return {
    text: `SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence <> 't'
  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2`,
    values: [],
  };
}

/**
 * Every foreign key (top-level: not a partition's clone) that references one of `tables` or
 * their partitions, as one JSON array in column `fks`: name, table, referenced table, columns,
 * the child's primary key, whether the child is itself one of the restored tables (`inside`),
 * whether the current role may drop and re-add it (`alterable`: it owns the child and may
 * reference the parent), the child's owner, and its definition as Postgres prints it.
 * Run it with an empty search_path so the definitions name every table with its schema.
 *
 * @example referencingForeignKeys([{ schema: "public", name: "players" }]) // => { text: "WITH RECURSIVE roots … AS fks", values: [] }
 */
export function referencingForeignKeys(tables: readonly QualifiedName[]): Statement {
  const cols = (keys: string, rel: string) =>
    `(SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(${keys}) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.attnum)`;
  return {
    text: `WITH roots(oid) AS (
  SELECT ty.typrelid FROM pg_type ty WHERE ty.oid IN (${tables.map(relationOid).join(", ")})
), restored(oid) AS (
  SELECT oid FROM roots UNION SELECT t.relid FROM roots r CROSS JOIN LATERAL pg_partition_tree(r.oid) t
)
SELECT COALESCE(json_agg(f ORDER BY f.schema, f.table, f.name), json_build_array())::text AS fks FROM (
  SELECT con.conname::text AS name, n.nspname::text AS schema, c.relname::text AS table,
         pn.nspname::text AS ref_schema, p.relname::text AS ref_table,
         ${cols("con.conkey", "con.conrelid")} AS columns,
         ${cols("con.confkey", "con.confrelid")} AS ref_columns,
         (SELECT ${cols("i.indkey", "i.indrelid")} FROM pg_index i WHERE i.indrelid = con.conrelid AND i.indisprimary) AS key,
         con.conrelid IN (SELECT oid FROM restored) AS inside,
         pg_has_role(c.relowner, 'USAGE') AND has_table_privilege(con.confrelid, 'REFERENCES') AS alterable,
         pg_get_userbyid(c.relowner)::text AS owner,
         pg_get_constraintdef(con.oid) AS definition
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class p ON p.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
  WHERE con.contype = 'f' AND con.conparentid = 0 AND con.confrelid IN (SELECT oid FROM restored)
) f`,
    values: [],
  };
}

export function dropConstraint(table: QualifiedName, name: string): Statement {
  return { text: `ALTER TABLE ${qualified(table)} DROP CONSTRAINT ${quoteIdent(name)}`, values: [] };
}

/**
 * Adds an FK back (validating every row of `table` in one join); if a row has no parent, the
 * constraint is simply not there afterwards, and the session goes on so the caller can name the
 * rows. `definition` is Postgres's own text (pg_get_constraintdef, as pg_dump uses it), printed
 * with an empty search_path; `tag` is the dollar-quote tag, which must not occur in it.
 *
 * @example addForeignKeyUnlessViolated(stats, "stats_player_fkey", "FOREIGN KEY (player_id) REFERENCES public.players(id)", "atomic_etl_3f2a")
 */
export function addForeignKeyUnlessViolated(table: QualifiedName, name: string, definition: string, tag: string): Statement {
  const alter = `ALTER TABLE ${qualified(table)} ADD CONSTRAINT ${quoteIdent(name)} ${definition}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(tag) || alter.includes(`$${tag}$`)) throw new Error(`unusable dollar-quote tag ${tag}`);
  return { text: `DO $${tag}$ BEGIN ${alter}; EXCEPTION WHEN foreign_key_violation THEN NULL; END $${tag}$`, values: [] };
}

/** An FK as the orphan search needs it. */
export interface ForeignKeyColumns {
  table: QualifiedName;
  columns: readonly string[];
  references: QualifiedName;
  referencedColumns: readonly string[];
  /** The child's primary key, to name each row; [] when it has none. */
  key: readonly string[];
}

/**
 * Up to `limit` rows of the FK's table whose (non-null) FK value has no row in the referenced
 * table, as JSON (`key`: the row's primary key, `value`: its FK columns), with the `total` count.
 *
 * @example orphanedRows({ table: stats, columns: ["player_id"], references: players, referencedColumns: ["id"], key: ["id"] })
 */
export function orphanedRows(fk: ForeignKeyColumns, limit = 10): Statement {
  const c = (col: string) => `c.${quoteIdent(col)}`;
  const asJson = (cols: readonly string[], alias: string) =>
    cols.length ? `(SELECT row_to_json(${alias}) FROM (SELECT ${cols.map(c).join(", ")}) ${alias})::text` : "NULL::text";
  const on = fk.columns.map((col, i) => `p.${quoteIdent(fk.referencedColumns[i] as string)} = ${c(col)}`).join(" AND ");
  return {
    text: `SELECT count(*) OVER () AS total, ${asJson(fk.key, "k")} AS key, ${asJson(fk.columns, "v")} AS value
FROM ${qualified(fk.table)} c
WHERE ${fk.columns.map((col) => `${c(col)} IS NOT NULL`).join(" AND ")}
  AND NOT EXISTS (SELECT 1 FROM ${qualified(fk.references)} p WHERE ${on})
LIMIT ${Math.max(1, Math.floor(limit))}`,
    values: [],
  };
}
