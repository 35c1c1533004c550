import type { Scope } from "../config/schema.js";
import { type QualifiedName, qualified, quoteIdent } from "./quote.js";
import { scopeMatch } from "./staging.js";
import type { Statement } from "./statement.js";

/**
 * SQL of a plan's diff for the replace strategies: the staged release against the target
 * (or its scope), read only. Pure `{ text, values }` builders.
 */

/** A compared column: its name, and whether it compares as text (types without equality: json, xml, geometry). */
export interface DiffColumn {
  name: string;
  asText: boolean;
}

export interface DiffSpec {
  stage: QualifiedName;
  target: QualifiedName;
  /** The primary key; empty: the rows are compared as a multiset of whole rows. */
  key: readonly string[];
  /** The other columns the final phase writes (and a match compares). */
  compare: readonly DiffColumn[];
  scope: Scope | null;
  /** A column alias no column of the table uses (the side marker of the join). */
  marker: string;
}

const v = (alias: string, c: DiffColumn) => (c.asText ? `(${alias}.${quoteIdent(c.name)})::text` : `${alias}.${quoteIdent(c.name)}`);
const on = (d: DiffSpec) => d.key.map((k) => `s.${quoteIdent(k)} = t.${quoteIdent(k)}`).join(" AND ");
const m = (alias: string, d: DiffSpec) => `${alias}.${quoteIdent(d.marker)}`;

/** Staging and target (within the scope), each with a marker column that is NULL on the missing side of an outer join. */
function sides(d: DiffSpec): { stage: string; target: string; values: unknown[] } {
  const scope = d.scope ? scopeMatch("t0", d.scope, 1) : null;
  return {
    stage: `(SELECT s0.ctid AS ${quoteIdent(d.marker)}, s0.* FROM ${qualified(d.stage)} s0)`,
    target: `(SELECT t0.ctid AS ${quoteIdent(d.marker)}, t0.* FROM ${qualified(d.target)} t0${scope ? ` WHERE ${scope.text}` : ""})`,
    values: scope?.values ?? [],
  };
}

function distinct(d: DiffSpec): string {
  if (d.compare.length === 0) return "false";
  return `ROW(${d.compare.map((c) => v("s", c)).join(", ")}) IS DISTINCT FROM ROW(${d.compare.map((c) => v("t", c)).join(", ")})`;
}

/** inserted / updated / deleted / unchanged by key, in one FULL JOIN. A staged row with a NULL key is new. */
export function keyedCounts(d: DiffSpec): Statement {
  const x = sides(d);
  const both = `${m("s", d)} IS NOT NULL AND ${m("t", d)} IS NOT NULL`;
  return {
    text:
      `SELECT count(*) FILTER (WHERE ${m("t", d)} IS NULL)::bigint AS inserted, count(*) FILTER (WHERE ${m("s", d)} IS NULL)::bigint AS deleted, ` +
      `count(*) FILTER (WHERE ${both} AND ${distinct(d)})::bigint AS updated, count(*) FILTER (WHERE ${both} AND NOT (${distinct(d)}))::bigint AS unchanged ` +
      `FROM ${x.stage} s FULL JOIN ${x.target} t ON ${on(d)}`,
    values: x.values,
  };
}

const order = (alias: string, d: DiffSpec) => d.key.map((k) => `${alias}.${quoteIdent(k)}`).join(", ");
const keys = (alias: string, d: DiffSpec) => d.key.map((k, i) => `${alias}.${quoteIdent(k)}::text AS k${i}`);
const shown = (alias: string, cols: readonly DiffColumn[]) => cols.map((c, i) => `(${alias}.${quoteIdent(c.name)})::text AS v${i}`);

/**
 * Up to `limit` updated rows: key, and per compared column new (`n`), old (`o`) and whether it
 * changed (`d`). The first ones in the release's order (a TEMP table is scanned from its first
 * block, in the order it was loaded), found by key lookups that stop at `limit`: no full join.
 */
export function keyedUpdatedSample(d: DiffSpec, limit: number): Statement {
  const x = sides(d);
  const cols = d.compare.flatMap((c, i) => [
    `(s.${quoteIdent(c.name)})::text AS n${i}`,
    `(t.${quoteIdent(c.name)})::text AS o${i}`,
    `(${v("s", c)} IS DISTINCT FROM ${v("t", c)}) AS d${i}`,
  ]);
  return {
    text: `SELECT ${[...keys("s", d), ...cols].join(", ")} FROM ${x.stage} s JOIN ${x.target} t ON ${on(d)} WHERE ${distinct(d)} LIMIT ${limit}`,
    values: x.values,
  };
}

/**
 * Up to `limit` rows only one side has: `inserted` (staged, no stored row with the key: the
 * first in the release's order) or `deleted` (stored rows the release lacks, in key order).
 */
export function keyedOneSidedSample(d: DiffSpec, kind: "inserted" | "deleted", limit: number): Statement {
  const x = sides(d);
  const [from, other] = kind === "inserted" ? ["s", "t"] : ["t", "s"];
  const cols = [...keys(from, d), ...shown(from, d.compare)];
  return {
    text: `SELECT ${cols.join(", ")} FROM ${x.stage} s ${kind === "inserted" ? "LEFT" : "RIGHT"} JOIN ${x.target} t ON ${on(d)} WHERE ${m(other, d)} IS NULL${kind === "deleted" ? ` ORDER BY ${order("t", d)}` : ""} LIMIT ${limit}`,
    values: x.values,
  };
}

const rowHash = (alias: string, d: DiffSpec) => `md5(ROW(${d.compare.map((c) => `${alias}.${quoteIdent(c.name)}`).join(", ")})::text)`;

/** Without a key: the release and the rows it replaces as multisets of whole rows (an UPDATE is one row out, one in). */
export function multisetCounts(d: DiffSpec): Statement {
  const scope = d.scope ? scopeMatch("t", d.scope, 1) : null;
  return {
    text:
      "SELECT COALESCE(sum(LEAST(ns, nt)), 0)::bigint AS unchanged, COALESCE(sum(GREATEST(ns - nt, 0)), 0)::bigint AS inserted, " +
      "COALESCE(sum(GREATEST(nt - ns, 0)), 0)::bigint AS deleted, 0::bigint AS updated FROM (SELECT h, sum(ns) AS ns, sum(nt) AS nt FROM (" +
      `SELECT ${rowHash("s", d)} AS h, 1 AS ns, 0 AS nt FROM ${qualified(d.stage)} s UNION ALL ` +
      `SELECT ${rowHash("t", d)}, 0, 1 FROM ${qualified(d.target)} t${scope ? ` WHERE ${scope.text}` : ""}) u GROUP BY h) g`,
    values: scope?.values ?? [],
  };
}

/** Up to `limit` whole rows that one side holds and the other does not hold at all. */
export function multisetSample(d: DiffSpec, kind: "inserted" | "deleted", limit: number): Statement {
  const scope = d.scope ? scopeMatch("t", d.scope, 1) : null;
  const [from, other] = kind === "inserted" ? ["s", "t"] : ["t", "s"];
  const rel = (alias: string) => (alias === "s" ? `${qualified(d.stage)} s` : `${qualified(d.target)} t`);
  const where = (alias: string) => (alias === "t" && scope ? [scope.text] : []);
  return {
    text: `SELECT ${shown(from, d.compare).join(", ")} FROM ${rel(from)} WHERE ${[
      ...where(from),
      `NOT EXISTS (SELECT 1 FROM ${rel(other)} WHERE ${[...where(other), `${rowHash(other, d)} = ${rowHash(from, d)}`].join(" AND ")})`,
    ].join(" AND ")} LIMIT ${limit}`,
    values: scope?.values ?? [],
  };
}
