import { col, keyMatch, type MergeSpec, missing, scopeValues } from "./merge.js";
import { qualified } from "./quote.js";
import type { Statement } from "./statement.js";

/**
 * SQL of a merge plan: what the changes table (built by `classifyInto`, read only against
 * the target) will do, counted and sampled. Pure `{ text, values }` builders.
 */

const cmp = (s: MergeSpec, alias: string, c: string) => (s.asText.includes(c) ? `(${col(alias, c)})::text` : col(alias, c));
/** Examples in key order (a top-N sort), so the same plan shows the same rows. */
const order = (s: MergeSpec, alias: string) => s.key.map((k) => col(alias, k)).join(", ");
const keys = (s: MergeSpec, alias: string) => s.key.map((k, i) => `${col(alias, k)}::text AS k${i}`);
const values = (alias: string, columns: readonly string[]) => columns.map((c, i) => `(${col(alias, c)})::text AS v${i}`);

/** The changes split into new keys (inserted) and matches that change (updated). */
export function mergeChangeCounts(s: MergeSpec): Statement {
  return {
    text: `SELECT count(*) FILTER (WHERE t.ctid IS NULL)::bigint AS inserted, count(*) FILTER (WHERE t.ctid IS NOT NULL)::bigint AS updated FROM ${qualified(s.changes)} c LEFT JOIN ${qualified(s.target)} t ON ${keyMatch(s, "t", "c")}`,
    values: [],
  };
}

/** Up to `limit` matches that change: key, and per `update` column new (`n`), old (`o`) and whether it changes (`d`). */
export function mergeUpdatedSample(s: MergeSpec, limit: number): Statement {
  const cols = s.update.flatMap((c, i) => [
    `(${col("c", c)})::text AS n${i}`,
    `(${col("t", c)})::text AS o${i}`,
    `(${cmp(s, "c", c)} IS DISTINCT FROM ${cmp(s, "t", c)}) AS d${i}`,
  ]);
  return {
    text: `SELECT ${[...keys(s, "c"), ...cols].join(", ")} FROM ${qualified(s.changes)} c JOIN ${qualified(s.target)} t ON ${keyMatch(s, "t", "c")} ORDER BY ${order(s, "c")} LIMIT ${limit}`,
    values: [],
  };
}

/** Up to `limit` new keys, with the values they are inserted with. */
export function mergeInsertedSample(s: MergeSpec, limit: number): Statement {
  return {
    text: `SELECT ${[...keys(s, "c"), ...values("c", s.insert)].join(", ")} FROM ${qualified(s.changes)} c LEFT JOIN ${qualified(s.target)} t ON ${keyMatch(s, "t", "c")} WHERE t.ctid IS NULL ORDER BY ${order(s, "c")} LIMIT ${limit}`,
    values: [],
  };
}

/** Up to `limit` stored rows `deleteMissing` removes. */
export function mergeDeletedSample(s: MergeSpec, limit: number): Statement {
  return {
    text: `SELECT ${[...keys(s, "t"), ...values("t", s.insert)].join(", ")} FROM ${qualified(s.target)} t WHERE ${missing(s, "t", "$1")} ORDER BY ${order(s, "t")} LIMIT ${limit}`,
    values: scopeValues(s),
  };
}
