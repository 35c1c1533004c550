import type { Scope } from "../config/schema.js";
import type { Statement } from "../db/prisma-like.js";
import { identList, type QualifiedName, qualified, quoteIdent } from "./quote.js";

/**
 * SQL of the staged strategies and the swap (src/strategies/), as pure `{ text, values }`
 * builders. Names go through `quoteIdent`; values are bind parameters, except in DDL, which
 * takes none (see {@link literal}).
 */

/** Table lock modes the final phases take. */
export type LockMode = "ROW EXCLUSIVE" | "ACCESS EXCLUSIVE";

/**
 * A TEMP staging table shaped like `like`: columns, defaults, NOT NULL, CHECK constraints and
 * generated columns; no indexes, no FKs. Dropped at COMMIT, gone with a ROLLBACK.
 *
 * @example createStaging("atomic_etl_stage_players", { schema: "public", name: "players" })
 */
export function createStaging(name: string, like: QualifiedName): Statement {
  return {
    text: `CREATE TEMP TABLE ${quoteIdent(name)} (LIKE ${qualified(like)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED) ON COMMIT DROP`,
    values: [],
  };
}

/** Lets a staging column hold NULL (an identity column whose value is drawn at the final insert). */
export function dropNotNull(table: QualifiedName, column: string): Statement {
  return { text: `ALTER TABLE ${qualified(table)} ALTER COLUMN ${quoteIdent(column)} DROP NOT NULL`, values: [] };
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

/** `LOCK TABLE a, b IN <mode> MODE`: one statement, held until the transaction (or savepoint) ends. */
export function lockTablesInMode(tables: readonly QualifiedName[], mode: LockMode): Statement {
  return { text: `LOCK TABLE ${tables.map(qualified).join(", ")} IN ${mode} MODE`, values: [] };
}

/** pg_locks modes that block (or, for row locks, may block) a request in `mode`. */
const CONFLICTS: Record<LockMode, string[]> = {
  "ACCESS EXCLUSIVE": [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
  ],
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

/** `(a = $n AND b = $n+1)` for a scope, numbering its parameters from `first`. */
function scopeMatch(alias: string, scope: Scope, first: number): { text: string; values: unknown[] } {
  const cols = Object.keys(scope);
  return {
    text: `(${cols.map((c, i) => `${alias}.${quoteIdent(c)} = $${first + i}`).join(" AND ")})`,
    values: cols.map((c) => scope[c]),
  };
}

/** Up to `limit` staged rows outside the scope (NULL in a scope column counts as outside). */
export function rowsOutsideScope(stage: QualifiedName, scope: Scope, limit = 5): Statement {
  const m = scopeMatch("s", scope, 1);
  return {
    text: `SELECT ${identList(Object.keys(scope))} FROM ${qualified(stage)} s WHERE ${m.text} IS NOT TRUE LIMIT ${limit}`,
    values: m.values,
  };
}

/** Key values that occur more than once in `table` (rows with a NULL in the key do not collide). */
export function duplicateKeys(table: QualifiedName, columns: readonly string[], limit = 5): Statement {
  const cols = identList(columns);
  return {
    text: `SELECT ${cols}, count(*)::bigint AS n FROM ${qualified(table)} WHERE ${columns.map((c) => `${quoteIdent(c)} IS NOT NULL`).join(" AND ")} GROUP BY ${cols} HAVING count(*) > 1 LIMIT ${limit}`,
    values: [],
  };
}

/** Staged keys that collide with a row of `target` outside the scope (a row the run keeps). */
export function collisionsOutsideScope(
  stage: QualifiedName,
  target: QualifiedName,
  columns: readonly string[],
  scope: Scope,
  limit = 5,
): Statement {
  const m = scopeMatch("t", scope, 1);
  return {
    text: `SELECT ${columns.map((c) => `s.${quoteIdent(c)}`).join(", ")} FROM ${qualified(stage)} s WHERE EXISTS (SELECT 1 FROM ${qualified(target)} t WHERE ${columns.map((c) => `t.${quoteIdent(c)} = s.${quoteIdent(c)}`).join(" AND ")} AND ${m.text} IS NOT TRUE) LIMIT ${limit}`,
    values: m.values,
  };
}

/**
 * The rows a table holds after the final phase: its staging table, plus, under a scope, the
 * rows of the target outside the scope; a table outside the run is itself.
 */
export interface FinalRows {
  table: QualifiedName;
  stage: QualifiedName | null;
  scope: Scope | null;
}

function finalRelation(r: FinalRows, columns: readonly string[], values: unknown[]): string {
  if (!r.stage) return qualified(r.table);
  const cols = identList(columns);
  if (!r.scope) return qualified(r.stage);
  const m = scopeMatch("t", r.scope, values.length + 1);
  values.push(...m.values);
  return `(SELECT ${cols} FROM ${qualified(r.stage)} UNION ALL SELECT ${columns.map((c) => `t.${quoteIdent(c)}`).join(", ")} FROM ${qualified(r.table)} t WHERE ${m.text} IS NOT TRUE)`;
}

/** Up to `limit` FK values of the child's final rows with no row in the parent's final rows (MATCH SIMPLE). */
export function finalOrphans(
  child: FinalRows,
  columns: readonly string[],
  parent: FinalRows,
  parentColumns: readonly string[],
  limit = 5,
): Statement {
  const values: unknown[] = [];
  const c = finalRelation(child, columns, values);
  const p = finalRelation(parent, parentColumns, values);
  const on = columns.map((col, i) => `p.${quoteIdent(parentColumns[i] as string)} = c.${quoteIdent(col)}`).join(" AND ");
  return {
    text: `SELECT DISTINCT ${columns.map((col) => `c.${quoteIdent(col)}`).join(", ")} FROM ${c} c WHERE ${columns.map((col) => `c.${quoteIdent(col)} IS NOT NULL`).join(" AND ")} AND NOT EXISTS (SELECT 1 FROM ${p} p WHERE ${on}) LIMIT ${limit}`,
    values,
  };
}

/**
 * Up to `limit` rows of `child` (a table outside the run) that reference rows of `parent`
 * the final phase deletes: all of them, or those in the scope.
 */
export function referencesToDeleted(
  child: QualifiedName,
  columns: readonly string[],
  parent: QualifiedName,
  parentColumns: readonly string[],
  scope: Scope | null,
  limit = 5,
): Statement {
  const m = scope ? scopeMatch("p", scope, 1) : null;
  const on = columns.map((col, i) => `p.${quoteIdent(parentColumns[i] as string)} = c.${quoteIdent(col)}`).join(" AND ");
  return {
    text: `SELECT ${columns.map((col) => `c.${quoteIdent(col)}`).join(", ")} FROM ${qualified(child)} c WHERE EXISTS (SELECT 1 FROM ${qualified(parent)} p WHERE ${on}${m ? ` AND ${m.text}` : ""}) LIMIT ${limit}`,
    values: m?.values ?? [],
  };
}

/** `DELETE FROM target WHERE <scope>`: rows outside the scope are never touched. */
export function deleteInScope(target: QualifiedName, scope: Scope): Statement {
  const m = scopeMatch("t", scope, 1);
  return { text: `DELETE FROM ${qualified(target)} t WHERE ${m.text}`, values: m.values };
}

/** An identity column and the sequence that fills it when a staged row has no value. */
export interface IdentityFill {
  column: string;
  sequence: string;
}

/**
 * `INSERT INTO to (cols) SELECT cols FROM stage`: one statement, so FKs see every row at once.
 * Identity columns left NULL in staging draw from `fill[].sequence`.
 */
export function insertFromStage(
  to: QualifiedName,
  stage: QualifiedName,
  columns: readonly string[],
  fill: readonly IdentityFill[],
): Statement {
  const seq = new Map(fill.map((f, i) => [f.column, i + 1]));
  const select = columns
    .map((c) => (seq.has(c) ? `COALESCE(${quoteIdent(c)}, nextval($${seq.get(c)}::regclass))` : quoteIdent(c)))
    .join(", ");
  return {
    text: `INSERT INTO ${qualified(to)} (${identList(columns)})${fill.length ? " OVERRIDING SYSTEM VALUE" : ""} SELECT ${select} FROM ${qualified(stage)}`,
    values: fill.map((f) => f.sequence),
  };
}

// ---- swap DDL ---------------------------------------------------------------------------

/**
 * DDL takes no bind parameters: the one place a value becomes a literal. The E'' form
 * escapes both `'` and `\`, so it means the same whatever standard_conforming_strings is.
 */
function literal(value: string): string {
  if (value.includes("\u0000")) throw new Error("a SQL literal cannot contain a NUL byte");
  return `E'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** A new, empty table with `like`'s columns, defaults, identity, constraints, indexes, comments, storage and statistics. */
export function createTableLike(
  table: QualifiedName,
  like: QualifiedName,
  opts: { unlogged: boolean; tablespace: string | null },
): Statement {
  return {
    text: `CREATE ${opts.unlogged ? "UNLOGGED " : ""}TABLE ${qualified(table)} (LIKE ${qualified(like)} INCLUDING ALL)${opts.tablespace ? ` TABLESPACE ${quoteIdent(opts.tablespace)}` : ""}`,
    values: [],
  };
}

/** `ALTER TABLE … SET (k = 'v')`, or for one column `ALTER COLUMN c SET (…)`. */
export function setOptions(table: QualifiedName, column: string | null, options: readonly (readonly [string, string])[]): Statement {
  const list = options.map(([k, v]) => `${quoteIdent(k)} = ${literal(v)}`).join(", ");
  return {
    text: `ALTER TABLE ${qualified(table)} ${column === null ? "" : `ALTER COLUMN ${quoteIdent(column)} `}SET (${list})`,
    values: [],
  };
}

export function setStatisticsTarget(table: QualifiedName, column: string, target: number): Statement {
  if (!Number.isInteger(target)) throw new Error(`statistics target must be an integer (got ${target})`);
  return { text: `ALTER TABLE ${qualified(table)} ALTER COLUMN ${quoteIdent(column)} SET STATISTICS ${target}`, values: [] };
}

export function setReplicaIdentity(table: QualifiedName, identity: "FULL" | "NOTHING" | { index: string }): Statement {
  const what = typeof identity === "string" ? identity : `USING INDEX ${quoteIdent(identity.index)}`;
  return { text: `ALTER TABLE ${qualified(table)} REPLICA IDENTITY ${what}`, values: [] };
}

export function commentOnTable(table: QualifiedName, comment: string): Statement {
  return { text: `COMMENT ON TABLE ${qualified(table)} IS ${literal(comment)}`, values: [] };
}

export function alterOwner(table: QualifiedName, role: string): Statement {
  return { text: `ALTER TABLE ${qualified(table)} OWNER TO ${quoteIdent(role)}`, values: [] };
}

const PRIVILEGES = new Set(["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"]);

/** One privilege on a table (or some of its columns) to a role, or to PUBLIC when `grantee` is null. */
export function grant(
  table: QualifiedName,
  privilege: string,
  grantee: string | null,
  opts: { columns?: readonly string[]; grantable: boolean },
): Statement {
  if (!PRIVILEGES.has(privilege)) throw new Error(`unknown table privilege ${privilege}`);
  const cols = opts.columns?.length ? ` (${identList(opts.columns)})` : "";
  return {
    text: `GRANT ${privilege}${cols} ON TABLE ${qualified(table)} TO ${grantee === null ? "PUBLIC" : quoteIdent(grantee)}${opts.grantable ? " WITH GRANT OPTION" : ""}`,
    values: [],
  };
}

export function revokeAll(table: QualifiedName, grantee: string | null): Statement {
  return { text: `REVOKE ALL ON TABLE ${qualified(table)} FROM ${grantee === null ? "PUBLIC" : quoteIdent(grantee)}`, values: [] };
}

/** ON UPDATE / ON DELETE actions as pg_constraint spells them. */
const ACTIONS: Record<string, string> = { a: "NO ACTION", r: "RESTRICT", c: "CASCADE", n: "SET NULL", d: "SET DEFAULT" };

/** A foreign key as pg_constraint holds it. */
export interface ForeignKeyDef {
  name: string;
  columns: string[];
  referencedColumns: string[];
  onUpdate: string;
  onDelete: string;
  /** Columns of `ON DELETE SET NULL (…)` / `SET DEFAULT (…)`, empty for all. */
  onDeleteColumns: string[];
  matchFull: boolean;
  deferrable: boolean;
  initiallyDeferred: boolean;
}

/** `ALTER TABLE t ADD CONSTRAINT name FOREIGN KEY (…) REFERENCES parent (…) …`, checking every row. */
export function addForeignKey(table: QualifiedName, fk: ForeignKeyDef, references: QualifiedName): Statement {
  const action = (code: string) => {
    const a = ACTIONS[code];
    if (!a) throw new Error(`unknown foreign key action ${code}`);
    return a;
  };
  const setCols = fk.onDeleteColumns.length ? ` (${identList(fk.onDeleteColumns)})` : "";
  return {
    text:
      `ALTER TABLE ${qualified(table)} ADD CONSTRAINT ${quoteIdent(fk.name)} FOREIGN KEY (${identList(fk.columns)}) REFERENCES ${qualified(references)} (${identList(fk.referencedColumns)})` +
      `${fk.matchFull ? " MATCH FULL" : ""} ON UPDATE ${action(fk.onUpdate)} ON DELETE ${action(fk.onDelete)}${setCols}` +
      `${fk.deferrable ? ` DEFERRABLE INITIALLY ${fk.initiallyDeferred ? "DEFERRED" : "IMMEDIATE"}` : ""}`,
    values: [],
  };
}

/** Moves an owned sequence (serial) to a column of another table, so dropping the old one keeps it. */
export function sequenceOwnedBy(sequence: QualifiedName, table: QualifiedName, column: string): Statement {
  return { text: `ALTER SEQUENCE ${qualified(sequence)} OWNED BY ${qualified(table)}.${quoteIdent(column)}`, values: [] };
}

/** Carries a sequence's position over to another; PL/pgSQL, for {@link doBlock}. */
export function copySequenceState(to: QualifiedName, from: QualifiedName): Statement {
  return { text: `PERFORM setval(${literal(qualified(to))}::regclass, s.last_value, s.is_called) FROM ${qualified(from)} s`, values: [] };
}

/**
 * Parameterless statements run in one round trip, as `DO $tag$ BEGIN …; …; END $tag$`
 * (the dollar-quote tag is one the body does not contain). Keeps a final phase that holds
 * exclusive locks down to a single exchange with the server.
 */
export function doBlock(statements: readonly Statement[]): Statement {
  if (statements.some((s) => s.values.length)) throw new Error("a DO block takes no bind parameters");
  const body = statements.map((s) => `  ${s.text};`).join("\n");
  let tag = "$atomic_etl$";
  for (let i = 1; body.includes(tag); i++) tag = `$atomic_etl_${i}$`;
  return { text: `DO ${tag}\nBEGIN\n${body}\nEND\n${tag}`, values: [] };
}

/** `DROP TABLE a, b` without CASCADE: anything still depending on them makes it fail. */
export function dropTables(tables: readonly QualifiedName[]): Statement {
  return { text: `DROP TABLE ${tables.map(qualified).join(", ")}`, values: [] };
}

export function renameRelation(kind: "TABLE" | "INDEX" | "SEQUENCE" | "STATISTICS", from: QualifiedName, to: string): Statement {
  return { text: `ALTER ${kind} ${qualified(from)} RENAME TO ${quoteIdent(to)}`, values: [] };
}
