import type { ForeignKeyInfo } from "./catalog.js";
import { identList, type QualifiedName, qualified, quoteIdent } from "./quote.js";
import type { Statement } from "./statement.js";

/**
 * SQL that moves rows: the set-based batch insert, clearing, moving staged rows, and the
 * row-level probes used to name a refused record. Pure `{ text, values }` builders.
 */

/**
 * Every SQL text atomic-etl runs is built here, as pure functions returning `{ text, values }`.
 * Names are quoted by `quoteIdent`; values are always bind parameters.
 */
/** One batch, set-based: `INSERT … SELECT … FROM json_populate_recordset(NULL::rowtype, $1::json)`. */
export function insertBatch(
  into: QualifiedName,
  rowType: QualifiedName,
  columns: readonly string[],
  json: string,
  overridingSystemValue = false,
): Statement {
  const cols = identList(columns);
  return {
    text: `INSERT INTO ${qualified(into)} (${cols})${overridingSystemValue ? " OVERRIDING SYSTEM VALUE" : ""} SELECT ${cols} FROM json_populate_recordset(NULL::${qualified(rowType)}, $1::json)`,
    values: [json],
  };
}

/** TRUNCATE of several tables in one statement (so FKs among them do not block it). */
export function truncateTables(tables: readonly QualifiedName[]): Statement {
  return { text: `TRUNCATE TABLE ${tables.map(qualified).join(", ")}`, values: [] };
}

export function deleteAll(table: QualifiedName): Statement {
  return { text: `DELETE FROM ${qualified(table)}`, values: [] };
}

/** `INSERT INTO to (cols) SELECT cols FROM from`: one statement, so FKs see every row at once. */
export function insertSelect(to: QualifiedName, from: QualifiedName, columns: readonly string[]): Statement {
  const cols = identList(columns);
  return { text: `INSERT INTO ${qualified(to)} (${cols}) SELECT ${cols} FROM ${qualified(from)}`, values: [] };
}

export function countRows(table: QualifiedName): Statement {
  return { text: `SELECT count(*)::bigint AS n FROM ${qualified(table)}`, values: [] };
}

/** Rows of `child` whose FK columns (all non-null) have no row in `parent`. */
export function orphanRows(
  child: QualifiedName,
  columns: readonly string[],
  parent: QualifiedName,
  parentColumns: readonly string[],
  limit = 5,
): Statement {
  const on = columns.map((c, i) => `p.${quoteIdent(parentColumns[i] as string)} = c.${quoteIdent(c)}`).join(" AND ");
  const notNull = columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(" AND ");
  return {
    text: `SELECT ${columns.map((c) => `c.${quoteIdent(c)}`).join(", ")} FROM ${qualified(child)} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${qualified(parent)} p WHERE ${on}) LIMIT ${limit}`,
    values: [],
  };
}

/** Ordinals (1-based) of the probe rows whose key has no row in the FK's parent table. */
export function missingParentKeys(fk: ForeignKeyInfo, probeJson: string): Statement {
  const on = fk.referencedColumns.map((c) => `p.${quoteIdent(c)} = w.${quoteIdent(c)}`).join(" AND ");
  return {
    text: `SELECT w.ordinality AS n FROM json_populate_recordset(NULL::${qualified(fk.references)}, $1::json) WITH ORDINALITY AS w WHERE NOT EXISTS (SELECT 1 FROM ${qualified(fk.references)} p WHERE ${on}) ORDER BY 1`,
    values: [probeJson],
  };
}

/**
 * The first (1-based) of the probe rows whose `columns` value a stored row of `table` holds
 * under another `matchOn` key (a merge's unique clash with a row the release does not hold).
 */
export function storedClash(table: QualifiedName, columns: readonly string[], matchOn: readonly string[], probeJson: string): Statement {
  const same = columns.map((c) => `s.${quoteIdent(c)} = w.${quoteIdent(c)}`).join(" AND ");
  const key = (a: string) => `ROW(${matchOn.map((c) => `${a}.${quoteIdent(c)}`).join(", ")})`;
  const other = matchOn.length ? ` AND ${key("s")} IS DISTINCT FROM ${key("w")}` : "";
  return {
    text: `SELECT w.ordinality AS n FROM json_populate_recordset(NULL::${qualified(table)}, $1::json) WITH ORDINALITY AS w WHERE EXISTS (SELECT 1 FROM ${qualified(table)} s WHERE ${same}${other}) ORDER BY 1 LIMIT 1`,
    values: [probeJson],
  };
}

/** Raises a serial/identity sequence to the loaded max, never lowering it (setval is not transactional). */
export function bumpSequence(table: QualifiedName, column: string, sequence: string): Statement {
  return {
    text: `SELECT setval($1::regclass, m) FROM (SELECT max(${quoteIdent(column)})::bigint AS m FROM ${qualified(table)}) s WHERE m IS NOT NULL AND m > COALESCE(pg_sequence_last_value($1::regclass), 0)`,
    values: [sequence],
  };
}
