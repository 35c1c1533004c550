import type { Scope } from "../config/schema.js";
import { identList, type QualifiedName, qualified, quoteIdent } from "./quote.js";
import type { Statement } from "./statement.js";

/**
 * SQL of the staged strategies: checks of the staged rows against the final state (scope,
 * unique keys, FKs, rows outside the run that lose their parent) and the final phase's
 * DELETE and INSERT … SELECT. Pure `{ text, values }` builders.
 */

/** `(a = $n AND b >= $n+1 AND b < $n+2)` for a scope, numbering its parameters from `first`. */
export function scopeMatch(alias: string, scope: Scope, first: number): { text: string; values: unknown[] } {
  const terms: string[] = [];
  const values: unknown[] = [];
  const param = (v: unknown) => `$${first + values.push(v) - 1}`;
  for (const [c, v] of Object.entries(scope)) {
    const col = `${alias}.${quoteIdent(c)}`;
    if (typeof v !== "object") terms.push(`${col} = ${param(v)}`);
    else {
      if (v.from !== undefined) terms.push(`${col} >= ${param(v.from)}`);
      if (v.to !== undefined) terms.push(`${col} < ${param(v.to)}`);
    }
  }
  return { text: `(${terms.join(" AND ")})`, values };
}

/** Up to `limit` staged rows outside the scope (NULL in a scope column counts as outside). */
export function rowsOutsideScope(stage: QualifiedName, scope: Scope, limit = 5): Statement {
  const m = scopeMatch("s", scope, 1);
  return {
    text: `SELECT ${identList(Object.keys(scope))} FROM ${qualified(stage)} s WHERE ${m.text} IS NOT TRUE LIMIT ${limit}`,
    values: m.values,
  };
}

/** The name of the index a unique-key probe builds on a staging table, and drops again. */
export const UNIQUE_PROBE = "atomic_etl_unique_probe";

/**
 * A unique index on a staging table's key: a sort (maintenance_work_mem) that fails with
 * 23505 on the first duplicate, several times faster than grouping a large table by the key.
 * NULLs do not collide in it, as in `duplicateKeys`.
 */
export function uniqueProbe(table: QualifiedName, columns: readonly string[]): Statement {
  return { text: `CREATE UNIQUE INDEX ${quoteIdent(UNIQUE_PROBE)} ON ${qualified(table)} (${identList(columns)})`, values: [] };
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

/** Rows of `target` inside the scope. */
export function countInScope(target: QualifiedName, scope: Scope): Statement {
  const m = scopeMatch("t", scope, 1);
  return { text: `SELECT count(*)::bigint AS n FROM ${qualified(target)} t WHERE ${m.text}`, values: m.values };
}

/** The leaf partitions of `target` that hold rows of the scope (scanning only the partitions the scope prunes to). */
export function partitionsInScope(target: QualifiedName, scope: Scope): Statement {
  const m = scopeMatch("t", scope, 1);
  return {
    text: `SELECT DISTINCT n.nspname AS schema, c.relname AS name FROM ${qualified(target)} t JOIN pg_class c ON c.oid = t.tableoid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${m.text}`,
    values: m.values,
  };
}

/** Does this partition hold rows outside the scope (then TRUNCATE would take too much)? */
export function holdsRowsOutsideScope(partition: QualifiedName, scope: Scope): Statement {
  const m = scopeMatch("t", scope, 1);
  return { text: `SELECT EXISTS (SELECT 1 FROM ONLY ${qualified(partition)} t WHERE ${m.text} IS NOT TRUE) AS mixed`, values: m.values };
}
