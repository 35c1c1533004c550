import type { Statement } from "./statement.js";
import type { ForeignKeyInfo } from "./catalog.js";
import { identList, type QualifiedName, qualified, quoteIdent } from "./quote.js";

/**
 * The SQL of the `merge` strategy (src/strategies/merge.ts), as pure `{ text, values }`
 * builders over one resolved {@link MergeSpec}. Names are quoted by `quoteIdent`; values
 * are bind parameters.
 */

/** One `order` term: `updated_at desc` sorts newest first; NULLs always sort last (never win). */
export interface OrderTerm {
  column: string;
  desc: boolean;
}

/** One table's merge, resolved against the catalog: every name is a real column. */
export interface MergeSpec {
  target: QualifiedName;
  /** TEMP table the release's rows are loaded into. */
  stage: QualifiedName;
  /** TEMP table with one row per key: the winner of `order`. */
  dedup: QualifiedName;
  /** TEMP table with the rows to write: new keys, and matches that changed. */
  changes: QualifiedName;
  key: string[];
  /** Key columns compared NULL-equal (`nullsEqual` on a nullable column). */
  nullEqualKey: string[];
  order: OrderTerm[];
  /** Columns written when a key matches. */
  update: string[];
  /** Columns inserted for a new key: every column but generated ones. */
  insert: string[];
  /** NOT NULL columns with a default: NULL in staging means the release omitted them. */
  omittable: string[];
  /** Columns compared as text: their types have no equality operator (json, xml, geometry). */
  asText: string[];
  /** A match is updated only when the incoming row sorts before the stored one by `order`. */
  onlyIfNewer: boolean;
  /** Insert needs OVERRIDING SYSTEM VALUE (a GENERATED ALWAYS identity column is inserted). */
  overriding: boolean;
  /** `deleteMissing`: null = off; `{}` = the whole table; else only rows with these values. */
  deleteScope: Record<string, string | number | boolean> | null;
  /** Helper column names that no column of the table uses. */
  helpers: { rank: string; tied: string; isNew: string };
  /**
   * The target is partitioned: RETURNING cannot read `xmax` there, so inserted vs updated is
   * told by the classification (a key another session inserts between the two counts as inserted).
   */
  partitioned: boolean;
}

export const col = (alias: string, c: string) => `${alias}.${quoteIdent(c)}`;

/** Key equality, hash-joinable: `ARRAY[a] = ARRAY[b]` is true for two NULLs, where `=` is not. */
export function keyMatch(s: MergeSpec, a: string, b: string): string {
  return s.key
    .map((k) => (s.nullEqualKey.includes(k) ? `ARRAY[${col(a, k)}] = ARRAY[${col(b, k)}]` : `${col(a, k)} = ${col(b, k)}`))
    .join(" AND ");
}

function orderBy(s: MergeSpec, alias?: string): string {
  return s.order.map((o) => `${alias ? col(alias, o.column) : quoteIdent(o.column)} ${o.desc ? "DESC" : "ASC"} NULLS LAST`).join(", ");
}

/** `a` sorts strictly before `b` by `order`, i.e. `a` is newer; a NULL is never newer. */
function newer(s: MergeSpec, a: string, b: string): string {
  const terms = s.order.map((o, i) => {
    const [x, y] = [col(a, o.column), col(b, o.column)];
    const better = `(${x} ${o.desc ? ">" : "<"} ${y} OR (${x} IS NOT NULL AND ${y} IS NULL))`;
    const same = s.order.slice(0, i).map((p) => `${col(a, p.column)} IS NOT DISTINCT FROM ${col(b, p.column)}`);
    return [...same, better].join(" AND ");
  });
  return `(${terms.map((t) => `(${t})`).join(" OR ")})`;
}

/**
 * The stored row `t` differs from the incoming `src` in `columns`. An omitted column
 * (NULL where the column is NOT NULL) never counts as a difference.
 */
function changed(s: MergeSpec, columns: readonly string[], t: string, src: string): string {
  const side = (alias: string, c: string) => {
    const v = alias === src && s.omittable.includes(c) ? `COALESCE(${col(src, c)}, ${col(t, c)})` : col(alias, c);
    return s.asText.includes(c) ? `(${v})::text` : v;
  };
  return `ROW(${columns.map((c) => side(t, c)).join(", ")}) IS DISTINCT FROM ROW(${columns.map((c) => side(src, c)).join(", ")})`;
}

/** Makes omittable columns of the staging table NULL when a record leaves them out. */
export function relaxStaging(stage: QualifiedName, columns: readonly string[]): Statement {
  const actions = columns.map((c) => `ALTER COLUMN ${quoteIdent(c)} DROP DEFAULT, ALTER COLUMN ${quoteIdent(c)} DROP NOT NULL`);
  return { text: `ALTER TABLE ${qualified(stage)} ${actions.join(", ")}`, values: [] };
}

/** Staged rows, and how many hold a NULL in one of `nonNull` (key columns that must have a value). */
export function stagedRows(s: MergeSpec, nonNull: readonly string[]): Statement {
  const nulls = nonNull.length ? `count(*) FILTER (WHERE ${nonNull.map((c) => `${quoteIdent(c)} IS NULL`).join(" OR ")})` : "0";
  return { text: `SELECT count(*)::bigint AS rows, ${nulls}::bigint AS null_keys FROM ${qualified(s.stage)}`, values: [] };
}

/**
 * One row per key into the dedup table: the first by `order` (one sort, set-based), with
 * the number of staged rows tied with it on key and order.
 */
export function dedupInto(s: MergeSpec): Statement {
  const cols = identList(s.insert);
  const window = `PARTITION BY ${identList(s.key)}${s.order.length ? ` ORDER BY ${orderBy(s)}` : ""}`;
  const { rank, tied } = s.helpers;
  return {
    text:
      `CREATE TEMP TABLE ${quoteIdent(s.dedup.name)} ON COMMIT DROP AS SELECT ${cols}, ${quoteIdent(tied)} FROM (` +
      `SELECT ${cols}, row_number() OVER w AS ${quoteIdent(rank)}, count(*) OVER (w RANGE BETWEEN CURRENT ROW AND CURRENT ROW) AS ${quoteIdent(tied)} ` +
      `FROM ${qualified(s.stage)} WINDOW w AS (${window})) x WHERE ${quoteIdent(rank)} = 1`,
    values: [],
  };
}

/**
 * Keys whose winning rows are tied on `order` and differ in content: no row may be picked
 * arbitrarily. Identical tied rows are one row sent twice, and are not a tie.
 */
export function tiedKeys(s: MergeSpec, limit = 5): Statement {
  const groupCols = [...s.key, ...s.order.map((o) => o.column).filter((c) => !s.key.includes(c))];
  const sameOrder = s.order.map((o) => `${col("s", o.column)} IS NOT DISTINCT FROM ${col("d", o.column)}`);
  return {
    text:
      `SELECT ${groupCols.map((c) => col("d", c)).join(", ")}, count(*)::bigint AS ${quoteIdent(s.helpers.tied)} FROM ${qualified(s.dedup)} d ` +
      `JOIN ${qualified(s.stage)} s ON ${[keyMatch(s, "s", "d"), ...sameOrder].join(" AND ")} ` +
      `WHERE d.${quoteIdent(s.helpers.tied)} > 1 GROUP BY ${groupCols.map((c) => col("d", c)).join(", ")} HAVING count(DISTINCT s::text) > 1 LIMIT ${limit}`,
    values: [],
  };
}

/**
 * The rows to write into the changes table: keys the target does not have, and matches
 * whose `update` columns differ (and, with `onlyIfNewer`, that are newer). Unchanged rows
 * never reach the write, so they are neither written nor locked. A match takes the stored
 * value of a column its record omitted, so its upsert draws no DEFAULT (no sequence value).
 */
export function classifyInto(s: MergeSpec): Statement {
  const write = s.update.length ? ` OR (${changed(s, s.update, "t", "s")}${s.onlyIfNewer ? ` AND ${newer(s, "s", "t")}` : ""})` : "";
  const cols = s.insert.map((c) =>
    s.omittable.includes(c) ? `COALESCE(${col("s", c)}, ${col("t", c)}) AS ${quoteIdent(c)}` : col("s", c),
  );
  if (s.partitioned) cols.push(`t.ctid IS NULL AS ${quoteIdent(s.helpers.isNew)}`);
  return {
    text:
      `CREATE TEMP TABLE ${quoteIdent(s.changes.name)} ON COMMIT DROP AS SELECT ${cols.join(", ")} ` +
      `FROM ${qualified(s.dedup)} s LEFT JOIN ${qualified(s.target)} t ON ${keyMatch(s, "t", "s")} WHERE t.ctid IS NULL${write}`,
    values: [],
  };
}

/** Which omittable columns are NULL, per distinct combination among the rows to write (`p0`, `p1` …). */
export function omittedPatterns(s: MergeSpec): Statement {
  return {
    text: `SELECT DISTINCT ${s.omittable.map((c, i) => `${quoteIdent(c)} IS NULL AS ${quoteIdent(`p${i}`)}`).join(", ")} FROM ${qualified(s.changes)}`,
    values: [],
  };
}

/**
 * Writes the changes rows that omit exactly `omitted` (those get the column DEFAULT on
 * insert and keep their stored value on update): `INSERT … ON CONFLICT (key) DO UPDATE …
 * WHERE changed`. A key inserted meanwhile by someone else becomes an update, not an error.
 * Counts inserted vs updated rows (`xmax = 0` only on a freshly inserted row version; on a
 * partitioned target, by the classification's flag).
 */
export function upsertChanges(s: MergeSpec, omitted: readonly string[]): Statement {
  const cols = s.insert.filter((c) => !omitted.includes(c));
  const update = s.update.filter((c) => !omitted.includes(c));
  const filter = s.omittable.map((c) => `${quoteIdent(c)} IS ${omitted.includes(c) ? "" : "NOT "}NULL`);
  const action = update.length
    ? `DO UPDATE SET ${update.map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`).join(", ")} WHERE ${changed(s, update, "t", "excluded")}${s.onlyIfNewer ? ` AND ${newer(s, "excluded", "t")}` : ""}`
    : "DO NOTHING";
  return {
    text:
      `WITH w AS (INSERT INTO ${qualified(s.target)} AS t (${identList(cols)})${s.overriding ? " OVERRIDING SYSTEM VALUE" : ""} ` +
      `SELECT ${identList(cols)} FROM ${qualified(s.changes)}${filter.length ? ` WHERE ${filter.join(" AND ")}` : ""} ` +
      `ON CONFLICT (${identList(s.key)}) ${action} RETURNING ${s.partitioned ? identList(s.key) : "t.xmax = 0 AS ins"}) ` +
      (s.partitioned
        ? `SELECT count(*) FILTER (WHERE c.${quoteIdent(s.helpers.isNew)})::bigint AS inserted, count(*) FILTER (WHERE NOT c.${quoteIdent(s.helpers.isNew)})::bigint AS updated FROM w JOIN ${qualified(s.changes)} c ON ${keyMatch(s, "c", "w")}`
        : `SELECT count(*) FILTER (WHERE ins)::bigint AS inserted, count(*) FILTER (WHERE NOT ins)::bigint AS updated FROM w`),
    values: [],
  };
}

/** `alias` lies in the delete scope; the scope's values reach SQL as one JSON bind parameter. */
function inScope(s: MergeSpec, alias: string, param: string): string[] {
  // json_populate_record casts each value to its column's type; the subquery runs once
  return Object.keys(s.deleteScope ?? {}).map(
    (c) => `${col(alias, c)} = (SELECT (json_populate_record(NULL::${qualified(s.target)}, ${param}::json)).${quoteIdent(c)})`,
  );
}

/** `alias` is a target row that `deleteMissing` removes: in scope, and its key is not in the release. */
export function missing(s: MergeSpec, alias: string, param: string): string {
  return [...inScope(s, alias, param), `NOT EXISTS (SELECT 1 FROM ${qualified(s.dedup)} s WHERE ${keyMatch(s, "s", alias)})`].join(" AND ");
}

export const scopeValues = (s: MergeSpec) => (Object.keys(s.deleteScope ?? {}).length ? [JSON.stringify(s.deleteScope)] : []);

/** `deleteMissing`: deletes the target rows in scope whose key the release does not hold. */
export function deleteMissing(s: MergeSpec): Statement {
  return { text: `DELETE FROM ${qualified(s.target)} t WHERE ${missing(s, "t", "$1")}`, values: scopeValues(s) };
}

/**
 * Rows of `fk`'s table that still reference a target row `deleteMissing` would remove
 * (rows that are themselves removed, in a self-reference, excepted). Shows `show` columns.
 */
export function referencingRows(s: MergeSpec, fk: ForeignKeyInfo, show: readonly string[], limit = 5): Statement {
  const on = fk.columns.map((c, i) => `${col("c", c)} = ${col("p", fk.referencedColumns[i] as string)}`).join(" AND ");
  const self = fk.table.schema === s.target.schema && fk.table.name === s.target.name ? ` AND NOT (${missing(s, "c", "$1")})` : "";
  return {
    text: `SELECT ${show.map((c) => col("c", c)).join(", ")} FROM ${qualified(fk.table)} c JOIN ${qualified(s.target)} p ON ${on} WHERE ${missing(s, "p", "$1")}${self} LIMIT ${limit}`,
    values: scopeValues(s),
  };
}

/** Whether a UNIQUE NULLS NOT DISTINCT index (PG 15+) covers exactly `columns`; false before PG 15. */
export function hasNullsNotDistinctIndex(table: QualifiedName, columns: readonly string[]): Statement {
  return {
    text:
      "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = to_regclass(format('%I.%I', $1::text, $2::text)) AND i.indisunique " +
      "AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnkeyatts = cardinality($3::text[]) " +
      "AND COALESCE((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) " +
      "AND (SELECT array_agg(a.attname::text) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o) " +
      "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n WHERE k.o <= i.indnkeyatts) @> $3::text[]) AS ok",
    values: [table.schema, table.name, [...columns]],
  };
}

/** `deleteMissing`'s reach before it runs: the target rows in scope, and how many of them it would delete. */
export function missingCounts(s: MergeSpec): Statement {
  const scope = inScope(s, "t", "$1");
  return {
    text: `SELECT count(*)::bigint AS in_scope, count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM ${qualified(s.dedup)} s WHERE ${keyMatch(s, "s", "t")}))::bigint AS missing FROM ${qualified(s.target)} t${scope.length ? ` WHERE ${scope.join(" AND ")}` : ""}`,
    values: scopeValues(s),
  };
}
