import type { Statement } from "./statement.js";

/**
 * The tables this transaction has written so far, as the server counts them
 * (`pg_stat_xact_user_tables`: rows inserted, updated, deleted by the current transaction,
 * subtransactions included), plus the tables it holds ACCESS EXCLUSIVE (a TRUNCATE resets
 * those counters to 0 but keeps that lock until the end of the transaction). A partition is
 * reported with the root of its tree. Temporary tables are left out: they die with the session.
 */
export function writtenTables(): Statement {
  return {
    text: `SELECT s.relid::text AS relid, s.schemaname AS schema, s.relname AS name,
       rn.nspname AS root_schema, rc.relname AS root_name,
       s.n_tup_ins::text AS ins, s.n_tup_upd::text AS upd, s.n_tup_del::text AS del,
       l.relation IS NOT NULL AS exclusive
  FROM pg_stat_xact_user_tables s
  JOIN pg_class rc ON rc.oid = coalesce(pg_partition_root(s.relid), s.relid)
  JOIN pg_namespace rn ON rn.oid = rc.relnamespace
  LEFT JOIN (SELECT DISTINCT relation FROM pg_locks
              WHERE pid = pg_backend_pid() AND locktype = 'relation' AND mode = 'AccessExclusiveLock') l ON l.relation = s.relid
 WHERE s.schemaname !~ '^pg_temp_'
   AND (s.n_tup_ins + s.n_tup_upd + s.n_tup_del > 0 OR l.relation IS NOT NULL)`,
    values: [],
  };
}
