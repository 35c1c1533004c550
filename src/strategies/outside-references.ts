import { query } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import type { TablePlan } from "../planner/table-plan.js";
import type { ForeignKeyInfo } from "../sql/catalog.js";
import { referencesToDeleted } from "../sql/staging.js";
import type { StrategyContext } from "./strategy.js";

type Row = Record<string, unknown>;

const ACTION: Record<ForeignKeyInfo["onDelete"], string> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};

/** FKs into the tables from tables that are not among them. */
export function outsideForeignKeys(tables: readonly TablePlan[]): { fk: ForeignKeyInfo; parent: TablePlan }[] {
  const inGroup = (fk: ForeignKeyInfo) => tables.some((t) => t.info.schema === fk.table.schema && t.info.name === fk.table.name);
  return tables.flatMap((parent) => parent.info.referencedBy.filter((fk) => !inGroup(fk)).map((fk) => ({ fk, parent })));
}

const show = (r: Row, cols: readonly string[]) =>
  cols.map((c) => `${c} = ${JSON.stringify(r[c], (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`).join(", ");

/**
 * A replace removes the targets' rows before inserting the release's. Tables outside the
 * release that reference them must not lose rows, get NULLs, or block the run halfway:
 *
 * - `truncate` (TRUNCATE needs every referencing table in the statement): any outside FK;
 * - otherwise (DELETE): an outside FK that would cascade, set NULL or set a default, or an
 *   outside row that still references a row the run deletes (all rows, or the table's scope).
 *
 * Refused up front with STRATEGY_REFUSED, naming each FK and an example row, and the
 * strategy to use instead. Runs again right before the final phase, so a referencing row
 * another session added during the load is caught before anything is deleted.
 */
export async function refuseOutsideReferences(ctx: StrategyContext, strategy: string, opts: { truncate: boolean }): Promise<void> {
  const problems: string[] = [];
  const referenced: string[] = [];
  for (const { fk, parent } of outsideForeignKeys(ctx.tables)) {
    const [row] = await query<Row>(ctx.tx, referencesToDeleted(fk.table, fk.columns, parent.info, fk.referencedColumns, parent.scope, 1));
    if (row) referenced.push(fk.table.name);
    const via = `${fk.table.name}.${fk.name} (ON DELETE ${ACTION[fk.onDelete]})`;
    if (row) problems.push(`${via} has rows that reference ${parent.name} rows this run deletes, e.g. ${show(row, fk.columns)}`);
    else if (opts.truncate) problems.push(`${via} references ${parent.name}, and TRUNCATE cannot leave it out`);
    else if (fk.onDelete === "c" || fk.onDelete === "n" || fk.onDelete === "d")
      problems.push(`${via} would ${fk.onDelete === "c" ? "delete" : "change"} its own rows when ${parent.name} rows are deleted`);
  }
  if (problems.length === 0) return;
  const tables = [...new Set(outsideForeignKeys(ctx.tables).map((o) => o.fk.table.name))];
  const instead =
    referenced.length === 0 && opts.truncate
      ? "use staged-delete (no outside row references the targets, and readers are never blocked)"
      : 'use the merge write disposition (mode: "merge", with deleteMissing for a full sync): it keeps the rows whose keys stay, so their references hold';
  throw new EtlError("STRATEGY_REFUSED", `${strategy} would break tables outside the release:\n  - ${problems.join("\n  - ")}`, {
    step: "clear",
    meta: { referencingTables: tables, problems },
    next: `${instead}; or add ${tables.join(", ")} to the release with the same strategy`,
  });
}
