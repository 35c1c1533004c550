/**
 * SQL of the source session of `export` and `sample`: the one read-only snapshot (opened,
 * exported, imported by the other connections), the output settings its JSON depends on, and
 * what is read about the source before any row (tables, partitions that are foreign tables,
 * privileges, heap sizes). Pure builders: `{ text, values }`.
 */
import type { Statement } from "./statement.js";

/** Opens the one snapshot every statement of a run reads. */
export function beginSnapshot(): Statement {
  return { text: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", values: [] };
}

/** Output formats that must not depend on the role's or server's settings (JSON of timestamps, floats, bytea). */
export function sessionSettings(): Statement {
  return {
    text: `SELECT set_config('TimeZone', 'UTC', true), set_config('extra_float_digits', '1', true),
                  set_config('bytea_output', 'hex', true), set_config('IntervalStyle', 'postgres', true)`,
    values: [],
  };
}

/** What the manifest records about the snapshot: LSN (replay LSN on a standby), time, xmin/xmax, database. */
export function snapshotInfo(): Statement {
  return {
    text: `SELECT current_database() AS database, pg_is_in_recovery() AS in_recovery,
                  (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS lsn,
                  pg_current_snapshot()::text AS txid_snapshot, now() AS time,
                  current_setting('server_version') AS server_version, current_user AS role`,
    values: [],
  };
}

export function exportSnapshot(): Statement {
  return { text: "SELECT pg_export_snapshot() AS id", values: [] };
}

const SNAPSHOT_ID = /^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/;

/** `SET TRANSACTION SNAPSHOT` takes no bind parameter: the id (from the server) is checked and inlined as a literal. */
export function importSnapshot(id: string): Statement {
  if (!SNAPSHOT_ID.test(id)) throw new Error(`not a snapshot id: ${JSON.stringify(id)}`);
  return { text: `SET TRANSACTION SNAPSHOT '${id}'`, values: [] };
}

/** Ordinary and partitioned tables of a schema (not partitions: they are read through their parent). */
export function listTables(schema: string): Statement {
  return {
    text: `SELECT c.relname AS name, c.relkind = 'p' AS partitioned
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            ORDER BY c.relname`,
    values: [schema],
  };
}

/**
 * Partitioned tables of the list with a leaf that is not a heap (a foreign table): its rows
 * have no ctid of their own, so such a table can only be taken whole.
 */
export function foreignLeaves(schema: string, tables: readonly string[]): Statement {
  return {
    text: `SELECT c.relname AS name
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind = 'p'
              AND EXISTS (SELECT 1 FROM pg_partition_tree(c.oid) pt JOIN pg_class l ON l.oid = pt.relid
                           WHERE pt.isleaf AND l.relkind <> 'r')`,
    values: [schema, [...tables]],
  };
}

/** Tables of the list the current role cannot read in full (table privilege, else every column's). */
export function unreadableTables(schema: string, tables: readonly string[]): Statement {
  return {
    text: `SELECT c.relname AS name
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = ANY($2::text[])
              AND NOT has_table_privilege(c.oid, 'SELECT')
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                            AND NOT has_column_privilege(c.oid, a.attnum, 'SELECT'))
            ORDER BY 1`,
    values: [schema, [...tables]],
  };
}

/** Heap pages of each table now (exact, not the planner's estimate); a partitioned parent has none of its own. */
export function tablePages(schema: string, tables: readonly string[]): Statement {
  return {
    text: `SELECT c.relname AS name, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int AS pages
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`,
    values: [schema, [...tables]],
  };
}
