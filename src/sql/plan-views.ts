import type { Scope } from "../config/schema.js";
import { literal } from "./ddl.js";
import { col, keyMatch, type MergeSpec } from "./merge.js";
import { identList, type QualifiedName, qualified, quoteIdent } from "./quote.js";
import type { Statement } from "./statement.js";

/**
 * A plan's TEMP views that stand in for the targets while the release's checks run: named
 * like the targets, in pg_temp, which an unqualified name resolves to first. Each shows the
 * rows its table would hold after the final phase. A view is DDL, so scope values become
 * literals through `literal` (the one place a value does).
 */

/** `CREATE TEMP VIEW <name> AS <rows>`, gone with the plan's ROLLBACK. */
export function shadowView(name: string, rows: string): Statement {
  return { text: `CREATE TEMP VIEW ${quoteIdent(name)} AS ${rows}`, values: [] };
}

/** `(a = 'x' AND b = '7')`, each value a literal the column's type reads. */
function scopeLiterals(alias: string, scope: Scope): string {
  return `(${Object.entries(scope)
    .map(([c, v]) => `${alias}.${quoteIdent(c)} = ${literal(String(v))}`)
    .join(" AND ")})`;
}

/** A replaced table after the final phase: its staged rows, plus (under a scope) its rows outside the scope. */
export function replacedRows(target: QualifiedName, stage: QualifiedName, columns: readonly string[], scope: Scope | null): string {
  const cols = identList(columns);
  const staged = `SELECT ${cols} FROM ${qualified(stage)}`;
  if (!scope) return staged;
  return `${staged} UNION ALL SELECT ${columns.map((c) => `t.${quoteIdent(c)}`).join(", ")} FROM ${qualified(target)} t WHERE ${scopeLiterals("t", scope)} IS NOT TRUE`;
}

/**
 * A merged table after the final phase: stored rows the merge leaves alone (no change, not
 * deleted by deleteMissing), plus the changes: a match takes the `update` columns from the
 * release and keeps the rest; a new key takes every column the release gives.
 */
export function mergedRows(s: MergeSpec, columns: readonly string[]): string {
  const kept = [`NOT EXISTS (SELECT 1 FROM ${qualified(s.changes)} c WHERE ${keyMatch(s, "c", "t")})`];
  if (s.deleteScope) {
    const inScope = Object.keys(s.deleteScope).length ? `${scopeLiterals("t", s.deleteScope)} AND ` : "";
    kept.push(`NOT (${inScope}NOT EXISTS (SELECT 1 FROM ${qualified(s.dedup)} d WHERE ${keyMatch(s, "d", "t")}))`);
  }
  const merged = columns.map((c) => {
    if (s.key.includes(c) || s.update.includes(c)) return col("c", c);
    if (s.insert.includes(c)) return `CASE WHEN t.ctid IS NULL THEN ${col("c", c)} ELSE ${col("t", c)} END`;
    return col("t", c);
  });
  return (
    `SELECT ${columns.map((c) => col("t", c)).join(", ")} FROM ${qualified(s.target)} t WHERE ${kept.join(" AND ")} ` +
    `UNION ALL SELECT ${merged.join(", ")} FROM ${qualified(s.changes)} c LEFT JOIN ${qualified(s.target)} t ON ${keyMatch(s, "t", "c")}`
  );
}
