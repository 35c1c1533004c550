import type { ApplyCounts } from "../strategies/strategy.js";

/** What a plan found for one table: the changes by key, what the final phase will write, and examples. */

/** Rows the release changes, matched by key (or, without one, as a multiset of whole rows). */
export interface ChangeCounts {
  inserted: number;
  updated: number;
  deleted: number;
  unchanged: number;
}

/** A column's value as Postgres prints it (`::text`), NULL as null. */
export type Shown = string | null;

/** One example row: its key, and its values (inserted, deleted) or its changed columns, old → new (updated). */
export interface RowSample {
  key: Record<string, Shown> | null;
  values?: Record<string, Shown>;
  changes?: Record<string, { old: Shown; new: Shown }>;
}

export interface PlannedTable {
  strategy: string;
  /**
   * How release rows meet stored rows: the primary key (replace strategies), the merge key
   * (merge, after its dedup and onlyIfNewer), or the whole row as a multiset (no key).
   */
  matchedBy: { kind: "primary key" | "merge key" | "whole row"; columns: string[] };
  rowsNow: number;
  rowsAfter: number;
  changes: ChangeCounts;
  /** Records dropped by the merge's dedup (latest wins); 0 for replace strategies. */
  duplicatesInSource: number;
  /** What the final phase will report, exactly as the import's `applied` (physical writes: a replace deletes and re-inserts every row). */
  writes: ApplyCounts;
  samples: { inserted: RowSample[]; updated: RowSample[]; deleted: RowSample[] };
}

/** Turns aliased sample columns (`k0`, `v0`, `n0`/`o0`/`d0`) back into named values. */
export function sampleFrom(
  row: Record<string, unknown>,
  key: readonly string[],
  opts: { values?: readonly string[]; compared?: readonly string[] },
): RowSample {
  const text = (v: unknown): Shown => (v === null || v === undefined ? null : String(v));
  const out: RowSample = { key: key.length ? Object.fromEntries(key.map((k, i) => [k, text(row[`k${i}`])])) : null };
  if (opts.values) out.values = Object.fromEntries(opts.values.map((c, i) => [c, text(row[`v${i}`])]));
  if (opts.compared) {
    out.changes = {};
    opts.compared.forEach((c, i) => {
      if (row[`d${i}`] === true)
        (out.changes as NonNullable<RowSample["changes"]>)[c] = { old: text(row[`o${i}`]), new: text(row[`n${i}`]) };
    });
  }
  return out;
}
