import type { Statement } from "./statement.js";

/** Session and transaction settings and facts. Pure `{ text, values }` builders. */

export function setLocal(name: "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout", ms: number): Statement {
  // SET LOCAL takes no bind parameters; set_config(…, true) is the parameterised equivalent.
  return { text: "SELECT set_config($1, $2, true)", values: [name, `${ms}ms`] };
}

/** A round trip that proves a connection (and its server) still answers. */
export function ping(): Statement {
  return { text: "SELECT 1", values: [] };
}

/** The transaction's id (assigning one now) and its backend's pid: what a failure is later resolved by. */
export function transactionIdentity(): Statement {
  return { text: "SELECT txid_current()::text AS txid, pg_backend_pid() AS pid", values: [] };
}

/** `committed`, `aborted`, `in progress`, or NULL for a transaction too old to know. */
export function transactionStatus(txid: string): Statement {
  return { text: "SELECT pg_xact_status($1::xid8) AS status", values: [txid] };
}

/** Ends another session (one of this run's own, whose transaction must not outlive a failure). */
export function terminateBackend(pid: number): Statement {
  return { text: "SELECT pg_terminate_backend($1::int) AS ok", values: [pid] };
}

export function currentUser(): Statement {
  return { text: "SELECT current_user AS me", values: [] };
}

/** What the run's index builds sort in (the bulk rebuild, the staged unique-key probes): 1M keys in memory. */
export const INDEX_BUILD_MEMORY = "256MB";

/** Memory for index builds and FK validation, for the rest of the transaction. */
export function maintenanceWorkMem(value: string = INDEX_BUILD_MEMORY): Statement {
  return { text: "SELECT set_config('maintenance_work_mem', $1, true)", values: [value] };
}

export function backendPid(): Statement {
  return { text: "SELECT pg_backend_pid() AS pid", values: [] };
}

/** Every deferrable constraint is checked at COMMIT (a cycle of DEFERRABLE FKs among the targets). */
export function deferConstraints(): Statement {
  return { text: "SET CONSTRAINTS ALL DEFERRED", values: [] };
}

/**
 * The tool's own pool opens every session read-only by default, and each run's transaction
 * makes itself read-write as its first statement. A raw `COPY` that reaches the connection
 * after Prisma rolled the transaction back (its timeout) then fails in autocommit instead of
 * committing rows outside the run. Returns `url` with the setting as a startup option, kept
 * beside any `options` the URL already has.
 *
 * @example readOnlyByDefault("postgresql://u@h/db") // => "postgresql://u@h/db?options=-c+default_transaction_read_only%3Don"
 */
export function readOnlyByDefault(url: string): string {
  const u = new URL(url);
  const prior = u.searchParams.get("options");
  // libpq's `options`: sent with the startup packet, so it holds before the session's first query
  u.searchParams.set("options", [prior, "-c default_transaction_read_only=on"].filter(Boolean).join(" "));
  return u.toString();
}

/** The first statement of a run's transaction (a utility statement: before any snapshot). */
export function readWriteTransaction(): Statement {
  return { text: "SET TRANSACTION READ WRITE", values: [] };
}
