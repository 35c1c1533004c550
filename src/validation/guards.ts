import { EtlError } from "../errors.js";

/** One table's counts around the final phase, and the guards its config sets. */
export interface RemovalFacts {
  table: string;
  file: string;
  /** Records the release holds for the table. */
  records: number;
  /** Rows the run replaces or may delete now (the scope's, under `scoped`). */
  rowsBefore: number;
  /** Rows of those the run removes (net: before minus what the release puts back). */
  removed: number;
  allowEmpty: boolean;
  maxDeletePercent: number | undefined;
}

/**
 * Guards against silent loss, checked before the final phase touches a target:
 *
 * - an empty file for a table that has rows is refused (EMPTY_FILE_REFUSED) unless the table
 *   says `allowEmpty: true`: an empty export is far more often a broken one than a wish to
 *   empty the table;
 * - with `maxDeletePercent`, a run that would leave the table more than that share of its
 *   rows fewer is refused (DELETE_LIMIT_EXCEEDED), naming the numbers.
 *
 * @example checkRemoval({ table: "players", file: "players.json", records: 0, rowsBefore: 12, removed: 12, allowEmpty: false, maxDeletePercent: undefined })
 * // throws EMPTY_FILE_REFUSED
 */
export function checkRemoval(f: RemovalFacts): void {
  if (f.records === 0 && f.rowsBefore > 0 && f.removed > 0 && !f.allowEmpty) {
    throw new EtlError(
      "EMPTY_FILE_REFUSED",
      `${f.file} holds no records, and ${f.table} has ${f.rowsBefore} rows that this run would delete`,
      {
        step: "validate",
        table: f.table,
        file: f.file,
        meta: { rowsBefore: f.rowsBefore },
        next: `check the export that wrote ${f.file}; if ${f.table} is meant to be emptied, set allowEmpty: true on its table in the config`,
      },
    );
  }
  if (f.maxDeletePercent === undefined || f.rowsBefore === 0 || f.removed <= 0) return;
  const percent = (f.removed / f.rowsBefore) * 100;
  if (percent <= f.maxDeletePercent) return;
  throw new EtlError(
    "DELETE_LIMIT_EXCEEDED",
    `${f.table}: this run would remove ${f.removed} of its ${f.rowsBefore} rows (${percent.toFixed(1)}%), more than its maxDeletePercent of ${f.maxDeletePercent}%`,
    {
      step: "validate",
      table: f.table,
      file: f.file,
      meta: { rowsBefore: f.rowsBefore, removed: f.removed, percent: Math.round(percent * 10) / 10, maxDeletePercent: f.maxDeletePercent },
      next: `check ${f.file} (is it complete?); if the removal is meant, raise maxDeletePercent for ${f.table} or run with a config that allows it`,
    },
  );
}
