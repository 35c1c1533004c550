import type { Statement } from "./statement.js";

/**
 * The database a connection reaches, as three facts that credentials and host names play no
 * part in: the cluster's `system_identifier` (from `pg_control_system()`, readable by any role),
 * the database's name and its OID. Every value is cast to text, so a psql session (which
 * returns strings) and node-postgres read the same row.
 *
 * @example databaseIdentity() // => { text: "SELECT … FROM pg_control_system() s, pg_database d WHERE d.datname = current_database()", values: [] }
 */
export function databaseIdentity(): Statement {
  return {
    text: `SELECT s.system_identifier::text AS system_identifier, current_database()::text AS database, d.oid::text AS oid
FROM pg_catalog.pg_control_system() s, pg_catalog.pg_database d
WHERE d.datname = current_database()`,
    values: [],
  };
}
