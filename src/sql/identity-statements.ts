import type { Statement } from "./statement.js";

/** The cluster's system identifier (from pg_control), the database's name and OID. */
export function databaseIdentity(): Statement {
  return {
    text: "SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier, current_database() AS database, (SELECT oid::int8 FROM pg_database WHERE datname = current_database()) AS oid",
    values: [],
  };
}
