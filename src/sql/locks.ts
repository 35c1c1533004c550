import { type QualifiedName, qualified, quoteIdent } from "./quote.js";
import type { Statement } from "./statement.js";

/** Table locks, savepoints and the sessions that block a lock. Pure `{ text, values }` builders. */

/** Table lock modes atomic-etl takes: the backup (ACCESS SHARE, what a reader holds), the final phases and the restore. */
export type LockMode = "ACCESS SHARE" | "ROW EXCLUSIVE" | "EXCLUSIVE" | "ACCESS EXCLUSIVE";

/** `LOCK TABLE a, b IN <mode> MODE`: one statement, held until the transaction (or savepoint) ends. */
export function lockTables(tables: readonly QualifiedName[], mode: LockMode): Statement {
  return { text: `LOCK TABLE ${tables.map(qualified).join(", ")} IN ${mode} MODE`, values: [] };
}

export function savepoint(name: string): Statement {
  return { text: `SAVEPOINT ${quoteIdent(name)}`, values: [] };
}

export function rollbackToSavepoint(name: string): Statement {
  return { text: `ROLLBACK TO SAVEPOINT ${quoteIdent(name)}`, values: [] };
}

export function releaseSavepoint(name: string): Statement {
  return { text: `RELEASE SAVEPOINT ${quoteIdent(name)}`, values: [] };
}

const ALL_MODES = [
  "AccessShareLock",
  "RowShareLock",
  "RowExclusiveLock",
  "ShareUpdateExclusiveLock",
  "ShareLock",
  "ShareRowExclusiveLock",
  "ExclusiveLock",
  "AccessExclusiveLock",
];

/** pg_locks modes that block (or, for row locks, may block) a request in `mode`. */
const CONFLICTS: Record<LockMode, string[]> = {
  "ACCESS EXCLUSIVE": ALL_MODES,
  "ACCESS SHARE": ["AccessExclusiveLock"],
  EXCLUSIVE: ALL_MODES.filter((m) => m !== "AccessShareLock"),
  // RowShare (SELECT … FOR SHARE/UPDATE) and RowExclusive holders may hold the row locks a DELETE waits for.
  "ROW EXCLUSIVE": ["RowShareLock", "RowExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"],
};

/**
 * Other sessions holding, or queued for, a lock on `tables` that conflicts with `mode`: one
 * row per session, its locks as "AccessShareLock on players" ("waiting for …" when queued).
 */
export function blockingSessions(tables: readonly QualifiedName[], mode: LockMode): Statement {
  return {
    text: `SELECT b.pid, array_agg(b.lock ORDER BY b.lock) AS locks, a.state, a.application_name AS application, a.query, a.xact_start AS since
FROM (
  SELECT DISTINCT l.pid, CASE WHEN l.granted THEN '' ELSE 'waiting for ' END || l.mode || ' on ' || c.relname AS lock
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
  WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.relation = ANY($1::text[]::regclass[]) AND l.pid <> pg_backend_pid() AND l.mode = ANY($2::text[])
) b
LEFT JOIN pg_stat_activity a ON a.pid = b.pid
GROUP BY b.pid, a.state, a.application_name, a.query, a.xact_start
ORDER BY a.xact_start NULLS LAST, b.pid`,
    values: [tables.map(qualified), CONFLICTS[mode]],
  };
}

/** Drops the transaction's cached copy of pg_stat_activity, so the next read is current. */
export function clearStatsSnapshot(): Statement {
  return { text: "SELECT pg_stat_clear_snapshot()", values: [] };
}

// ---- the run lock: a session-level advisory lock on (LOCK_CLASS, key of the schema) ----

/** Takes the run lock if free: `ok` true or false, never waits. */
export function tryAdvisoryLock(classId: number, key: number): Statement {
  return { text: "SELECT pg_try_advisory_lock($1, $2) AS ok", values: [classId, key] };
}

/** Waits for the run lock (bounded by the session's lock_timeout). */
export function advisoryLock(classId: number, key: number): Statement {
  return { text: "SELECT pg_advisory_lock($1, $2)", values: [classId, key] };
}

export function advisoryUnlock(classId: number, key: number): Statement {
  return { text: "SELECT pg_advisory_unlock($1, $2)", values: [classId, key] };
}

/** How long this session waits for any lock (advisory ones included). */
export function sessionLockTimeout(ms: number): Statement {
  return { text: "SELECT set_config('lock_timeout', $1, false)", values: [`${ms}ms`] };
}

/** The session holding the run lock on this database, with what pg_stat_activity says of it. */
export function advisoryLockHolder(classId: number, key: number): Statement {
  return {
    text: `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.client_port, a.backend_start::text AS backend_start, a.state
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.objsubid = 2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
LIMIT 1`,
    values: [classId, key],
  };
}

/** Does this session still hold the run lock? */
export function holdsAdvisoryLock(classId: number, key: number): Statement {
  return {
    text: `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
  AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2) AS ok`,
    values: [classId, key],
  };
}
