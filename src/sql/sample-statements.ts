/**
 * SQL of `export` and `sample`: read-only statements over the source, in one snapshot.
 * Rows are addressed by `ctid`, which is stable for every row version a REPEATABLE READ
 * snapshot can see (VACUUM cannot remove a version an open snapshot still sees), so key sets
 * need no primary key and composite keys cost nothing extra. Pure builders: `{ text, values }`.
 */
import type { Statement } from "./statement.js";
import type { ColumnInfo, ForeignKeyInfo, TableInfo } from "./catalog.js";
import { quoteIdent, qualified, type QualifiedName } from "./quote.js";

/** `ONLY` for a plain table (not its inheritance children); a partitioned table is read whole. */
const from = (t: QualifiedName & { partitioned?: boolean }, alias: string) => `${t.partitioned ? "" : "ONLY "}${qualified(t)} ${alias}`;

export interface RootSelection {
  table: TableInfo & { partitioned?: boolean };
  /** SQL condition from the config (trusted, never from argv or data). */
  where: string | null;
  limit: { rows: number } | { percent: number; seed: number } | null;
}

/**
 * The rows of a root selection as `SELECT <select> FROM <table> t …`: `where`, then a
 * percentage sample or the first N by primary key. `p` binds a value and returns its `$n`.
 */
function rootSelect(r: RootSelection, select: string, p: (v: unknown) => string): string {
  let sample = "";
  if (r.limit && "percent" in r.limit) sample = ` TABLESAMPLE BERNOULLI (${p(r.limit.percent)}) REPEATABLE (${p(r.limit.seed)})`;
  let text = `SELECT ${select} FROM ${from(r.table, "t")}${sample}`;
  if (r.where) text += ` WHERE (${r.where})`;
  if (r.limit && "rows" in r.limit) {
    const order = r.table.primaryKey.length ? r.table.primaryKey.map((c) => `t.${quoteIdent(c)}`).join(", ") : "t.ctid";
    text += ` ORDER BY ${order} LIMIT ${p(r.limit.rows)}`;
  }
  return text;
}

/** A statement's bind list and the `$n` of each value pushed. */
const binder = () => {
  const values: unknown[] = [];
  return { values, p: (v: unknown) => `$${values.push(v)}` };
};

/** Row ids (`ctid` text) of a root selection: `where`, then a percentage sample or the first N by primary key. */
export function rootIds(r: RootSelection): Statement {
  const { values, p } = binder();
  return { text: rootSelect(r, "t.ctid::text AS id", p), values };
}

/** A closure CTE's name: one no table is likely to have, since a config's `where` may name the source's tables. */
const cteName = (i: number) => quoteIdent(`atomic-etl closure ${i}`);

/** One table of a {@link closureQuery}: where its rows come from, and the FK columns its parents are found by. */
export interface ClosureTable {
  table: TableInfo & { partitioned?: boolean };
  /** Its own selection (reason 0); null when only its children bring rows in. */
  root: Omit<RootSelection, "table"> | null;
  /** FKs of other tables into this one, each a reason (1, 2, … in this order): `whole` children give every row. */
  from: { fk: ForeignKeyInfo; child: ClosureTable | { table: TableInfo & { partitioned?: boolean }; whole: true } }[];
  /** Columns of this table that FKs to the query's other tables read (carried in its CTE). */
  carries: readonly string[];
}

/**
 * The whole parent closure of a sample as ONE statement, for FK graphs without a cycle among
 * the partial tables and without included children: each table's rows are a CTE (`s<i>`) of
 * its own selection and, per FK into it, the rows its children's CTEs reference (a hashed
 * semi-join on the FK's columns, MATCH SIMPLE: a NULL part references nothing). Tables come
 * children first, so every CTE is defined before a parent reads it. The result is `t` (the
 * table's index), `id` (ctid text), `leaf` (the oid of the partition a partitioned table's row
 * is in; else 0) and `why` (0: its own selection, k: the k-th FK of `from`),
 * one row per branch a row came through: a row several branches bring comes several times,
 * and the caller keeps the first. Planned without parallel workers ({@link setParallelWorkers}), the
 * rows come table by table and, within a table, branch by branch (a serial Append runs its
 * branches in order; a Parallel Append orders them by cost), which makes the first reason the
 * lowest; deduplicating here instead (GROUP BY, min) cost 75 ms of the query's 350 ms on the
 * 1M-row example's 10% sample. Nothing is written: the CTEs live in the
 * query's memory (spilling to temp files as any sort does, on a standby too).
 */
export function closureQuery(tables: readonly ClosureTable[]): Statement {
  const { values, p } = binder();
  const index = new Map(tables.map((t, i) => [t, i]));
  const carried = (t: ClosureTable) => t.carries.map((c, i) => `t.${quoteIdent(c)} AS k${i}`);
  const ctes: string[] = [];
  const parts: string[] = [];
  const defined = new Set<number>();
  tables.forEach((t, i) => {
    // a partitioned table's ctids are per partition: each row says which partition it is in
    const leaf = t.table.partitioned ? "t.tableoid" : "0::oid";
    const cols = (why: number) => ["t.ctid AS x_id", `${why} AS x_why`, `${leaf} AS x_leaf`, ...carried(t)].join(", ");
    const branches: string[] = [];
    if (t.root) branches.push(`(${rootSelect({ table: t.table, ...t.root }, cols(0), p)})`);
    t.from.forEach(({ fk, child }, k) => {
      // a partial child with no CTE has no rows, so it references nothing
      if (!("whole" in child) && !defined.has(index.get(child) as number)) return;
      const source =
        "whole" in child
          ? { rel: from(child.table, "c"), col: (c: string) => `c.${quoteIdent(c)}` }
          : { rel: `${cteName(index.get(child) as number)} c`, col: (c: string) => `c.k${(child as ClosureTable).carries.indexOf(c)}` };
      const mine = fk.referencedColumns.map((c) => `t.${quoteIdent(c)}`);
      const theirs = fk.columns.map(source.col);
      const lhs = mine.length === 1 ? (mine[0] as string) : `(${mine.join(", ")})`;
      branches.push(`SELECT ${cols(k + 1)} FROM ${from(t.table, "t")} WHERE ${lhs} IN (SELECT ${theirs.join(", ")} FROM ${source.rel})`);
    });
    if (branches.length === 0) return;
    defined.add(i);
    ctes.push(`${cteName(i)} AS (${branches.join(" UNION ALL ")})`);
    parts.push(`SELECT ${i} AS t, x_id::text AS id, x_why AS why, x_leaf AS leaf FROM ${cteName(i)}`);
  });
  if (parts.length === 0) return { text: "SELECT 0 AS t, '' AS id, 0 AS why, 0::oid AS leaf WHERE false", values };
  return {
    text: `WITH ${ctes.join(", ")} ${parts.join(" UNION ALL ")}`,
    values,
  };
}

const on = (fk: ForeignKeyInfo, child: string, parent: string) =>
  fk.columns.map((c, i) => `${parent}.${quoteIdent(fk.referencedColumns[i] as string)} = ${child}.${quoteIdent(c)}`).join(" AND ");

/**
 * `ctid = ANY($1)` alone is planned as a filter on a full scan once a batch is a few thousand
 * ids: the ids arrive sorted, so their first and last bound a TID range scan (PostgreSQL 14+)
 * to the pages the batch lives on, and a table is read about once across all its batches.
 */
const idsIn = (alias: string, first: number) =>
  `${alias}.ctid = ANY($${first}::tid[]) AND ${alias}.ctid >= $${first + 1}::tid AND ${alias}.ctid <= $${first + 2}::tid`;
const idValues = (ids: readonly string[]) => [[...ids], ids[0] ?? "(0,0)", ids[ids.length - 1] ?? "(0,0)"];

/**
 * Parent row ids referenced through `fk` by the given child rows (sorted ctids; null: by every
 * child row). A NULL in any FK column references nothing (MATCH SIMPLE), as the join says.
 */
export function parentIds(fk: ForeignKeyInfo, child: TableInfo, parent: TableInfo, ids: readonly string[] | null): Statement {
  const text =
    `SELECT DISTINCT p.ctid::text AS id FROM ${from(parent, "p")} JOIN ${from(child, "c")} ON ${on(fk, "c", "p")}` +
    (ids ? ` WHERE ${idsIn("c", 1)}` : "");
  return { text, values: ids ? idValues(ids) : [] };
}

/** Child row ids of the given parent rows (sorted ctids) through `fk`, at most `cap` per parent (lowest ctid first). */
export function childIds(fk: ForeignKeyInfo, child: TableInfo, parent: TableInfo, ids: readonly string[], cap: number): Statement {
  return {
    text:
      `SELECT x.id FROM ${from(parent, "p")} CROSS JOIN LATERAL ` +
      `(SELECT c.ctid::text AS id FROM ${from(child, "c")} WHERE ${on(fk, "c", "p")} ORDER BY c.ctid LIMIT $4) x ` +
      `WHERE ${idsIn("p", 1)}`,
    values: [...idValues(ids), cap],
  };
}

/** `max_parallel_workers_per_gather` now (see {@link setParallelWorkers}). */
export function parallelWorkers(): Statement {
  return { text: `SELECT current_setting('max_parallel_workers_per_gather') AS value`, values: [] };
}

/**
 * Sets `max_parallel_workers_per_gather` for the rest of the transaction (a setting, no write:
 * a read-only transaction and a standby allow it). The closure query runs with 0: a cursor
 * fetching a chunk at a time never starts workers anyway, so this keeps the planner from
 * costing a plan for workers it will not get, and keeps a serial Append's branch order.
 */
export function setParallelWorkers(value: string): Statement {
  return { text: `SELECT set_config('max_parallel_workers_per_gather', $1, true)`, values: [value] };
}

/** The columns a release carries: generated columns are recomputed by the target, never loaded. */
export const releaseColumns = (t: TableInfo): string[] => t.columns.filter((c) => !c.isGenerated).map((c) => c.name);

/** A column as released: `json` goes as `jsonb` (no raw newline inside a line; duplicate keys resolved as JSON.parse would). */
const released = (c: ColumnInfo) =>
  c.type === "json" && !c.isArray ? `t.${quoteIdent(c.name)}::jsonb AS ${quoteIdent(c.name)}` : `t.${quoteIdent(c.name)}`;

const rowJson = (t: TableInfo, where: string) =>
  `SELECT row_to_json(x)::text AS j FROM (SELECT ${t.columns
    .filter((c) => !c.isGenerated)
    .map(released)
    .join(", ")} FROM ${from(t, "t")}${where}) x`;

/** A block number inlined into COPY (which takes no parameters): only a non-negative safe integer. */
const block = (n: number) => {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a block number: ${n}`);
  return String(n);
};

const blockRange = (range: { fromBlock: number; toBlock: number | null } | null) =>
  range
    ? ` WHERE t.ctid >= '(${block(range.fromBlock)},0)'::tid` +
      (range.toBlock === null ? "" : ` AND t.ctid < '(${block(range.toBlock)},0)'::tid`)
    : "";

/**
 * Every row of a table — or of the block range [fromBlock, toBlock) of its heap, a TID range
 * scan, when workers split a big table — for `COPY … TO STDOUT` in text format, as cheap for
 * the server as pg_dump's own COPY: the JSON is built by the client (src/sample/copy-json.ts).
 * Columns the client does not encode itself come as `to_json(col)::text`; `json` as jsonb.
 * COPY takes no parameters: the block numbers are integers computed by the caller, checked and
 * inlined.
 */
export function copyTableText(
  t: TableInfo & { partitioned?: boolean },
  range: { fromBlock: number; toBlock: number | null } | null,
  encodedByClient: (c: ColumnInfo) => boolean,
): Statement {
  const cols = t.columns
    .filter((c) => !c.isGenerated)
    .map((c) =>
      !encodedByClient(c)
        ? `to_json(t.${quoteIdent(c.name)})::text`
        : c.type === "json"
          ? `t.${quoteIdent(c.name)}::jsonb`
          : `t.${quoteIdent(c.name)}`,
    );
  return { text: `COPY (SELECT ${cols.join(", ")} FROM ${from(t, "t")}${blockRange(range)}) TO STDOUT`, values: [] };
}

/**
 * The rows with the given ids (sorted ctids) as JSON text, in ctid order. A partitioned
 * table's are those of one partition (`leaf`, its oid), read through the parent as the
 * closure read them: the parent's privileges and row security, not the partition's.
 */
export function rowsByIds(t: TableInfo & { partitioned?: boolean }, ids: readonly string[], leaf?: number): Statement {
  if (leaf === undefined) return { text: rowJson(t, ` WHERE ${idsIn("t", 1)}`), values: idValues(ids) };
  return { text: rowJson(t, ` WHERE t.tableoid = $4::oid AND ${idsIn("t", 1)}`), values: [...idValues(ids), leaf] };
}

/**
 * Per FK over two whole tables, in the snapshot: child rows it constrains (no NULL part) and
 * those without a parent row. A LEFT JOIN, which the planner runs as one (parallel) hash join;
 * `NOT EXISTS` inside an aggregate's FILTER is a subplan probed per child row (measured at 1M
 * rows: 677 ms against 87 ms). The referenced columns are a unique key, so each child row
 * joins at most one parent, and a matched parent's key column is never NULL.
 */
export function fkOrphans(
  fk: ForeignKeyInfo,
  child: TableInfo & { partitioned?: boolean },
  parent: TableInfo & { partitioned?: boolean },
): Statement {
  const notNull = fk.columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(" AND ");
  const unmatched = `p.${quoteIdent(fk.referencedColumns[0] as string)} IS NULL`;
  return {
    text:
      `SELECT count(*) FILTER (WHERE ${notNull}) AS checked, ` +
      `count(*) FILTER (WHERE ${notNull} AND ${unmatched}) AS missing ` +
      `FROM ${from(child, "c")} LEFT JOIN ${from(parent, "p")} ON ${on(fk, "c", "p")}`,
    values: [],
  };
}
