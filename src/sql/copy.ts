import { identList, type QualifiedName, qualified } from "./quote.js";
import type { Statement } from "./statement.js";

/**
 * The COPY path's SQL: the load itself, and the probe that finds which pooled `pg` client
 * runs a session. Pure `{ text, values }` builders; names through the one quoter.
 */

/** `COPY "s"."t" ("a", "b") FROM STDIN` in text format: one batch of rows, as {@link encodeRows} writes them. */
export function copyFromStdin(into: QualifiedName, columns: readonly string[]): Statement {
  return { text: `COPY ${qualified(into)} (${identList(columns)}) FROM STDIN (FORMAT text)`, values: [] };
}

/** The backend process of the session that runs it: matched against `pg` clients' `processID`. */
export function backendPid(): Statement {
  return { text: "SELECT pg_backend_pid() AS pid", values: [] };
}
