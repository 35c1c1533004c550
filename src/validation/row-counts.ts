import { EtlError, type Step } from "../errors.js";

/**
 * Every row read must land, and only those: a trigger or rule that drops or adds rows makes
 * the counts disagree, and the run stops with ROW_COUNT_MISMATCH rather than committing
 * something other than the release.
 *
 * @example expectRowCount({ table: "players", expected: 10, actual: 9, message: "players.json: read 10 records but 9 rows were inserted", step: "validate" })
 */
export function expectRowCount(c: { table: string; expected: number; actual: number; message: string; step: Step; file?: string }): void {
  if (c.actual === c.expected) return;
  throw new EtlError("ROW_COUNT_MISMATCH", c.message, {
    step: c.step,
    table: c.table,
    file: c.file,
    meta: { expected: c.expected, actual: c.actual },
    next: "look for triggers or rules on the table that drop or add rows",
  });
}
