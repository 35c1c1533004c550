import { query, type TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import type { TablePlan } from "../planner/table-plan.js";
import { missingParentKeys, storedClash } from "../sql/bulk.js";
import type { ForeignKeyInfo } from "../sql/catalog.js";
import { plainValue, type RecordRefusal, shownKey } from "../validation/record-refusal.js";
import { fieldName, keyModeOf, rowsWith, scan } from "./diagnose-scan.js";

type Row = Record<string, unknown>;
/** Where the refused key is in the file: the record, the earlier record of a repeat, the key's columns and values. */
interface Found {
  record?: number;
  earlier?: number;
  columns: readonly string[];
  values: readonly unknown[] | null;
  parent?: string;
}

const tupleKey = (r: Row, cols: readonly string[]) =>
  cols.every((c) => r[c] !== null && r[c] !== undefined) ? JSON.stringify(cols.map((c) => plainValue(r[c]))) : null;

/**
 * Names the record behind a refusal found on staged rows (a duplicate, an orphan, a row
 * outside the scope, a merge tie, a merge's unique or FK failure): the first record of the
 * table's file holding the refused key (the second, for a repeat, with the first as
 * `duplicateOf`), its field(s) as the file spells them, and the value. The same error
 * without a record when the file holds no such record (or the table is not in the release).
 *
 * @example await locateRefusal(e, tables, db) // DUPLICATE_KEY "teams.json: record #4 repeats id = 10 of record #0 …"
 */
export async function locateRefusal(e: RecordRefusal, tables: ReadonlyMap<string, TablePlan>, db: TxLike | null): Promise<EtlError> {
  const { key } = e;
  const source = tables.get(key.table);
  if (!source) return e;
  const found = key.nullIn
    ? await byNull(source, key.nullIn)
    : key.values
      ? await byValue(source, key.columns, key.values, key.repeat)
      : await byConstraint(source, key.constraint, tables, db, key.matchOn);
  if (!found) return e;
  const { record, earlier, columns, values } = found;
  const mode = await keyModeOf(source);
  const field = fieldName(source, columns, mode);
  const file = source.file.file;
  const message = key.say({
    at: record === undefined ? file : `${file}: record #${record}`,
    field,
    value: values ? shownKey(values) : "",
    earlier,
    parent: found.parent,
  });
  const details = e.details();
  const meta = {
    ...details.meta,
    ...(values ? { value: values.map(plainValue) } : {}),
    ...(earlier === undefined ? {} : { duplicateOf: earlier }),
  };
  return new EtlError(e.code, message, { ...details, file, record, field, meta });
}

/** The first record with no value in one of `columns`, and the columns it leaves empty. */
async function byNull(source: TablePlan, columns: readonly string[]): Promise<Found> {
  let found: Found = { columns, values: null };
  await scan(source, (row, index) => {
    const empty = columns.filter((c) => row[c] === null || row[c] === undefined);
    if (empty.length) found = { record: index, columns: empty, values: null };
    return empty.length > 0;
  });
  return found;
}

/** The first record holding `values` (the second, for a repeat). */
async function byValue(source: TablePlan, columns: readonly string[], values: readonly unknown[], repeat: boolean): Promise<Found> {
  const hits: number[] = [];
  const matches = rowsWith(source, columns, values);
  await scan(source, (row, index) => {
    if (matches(row)) hits.push(index);
    return hits.length >= (repeat ? 2 : 1);
  });
  const twice = repeat && hits.length > 1;
  return { record: twice ? hits[1] : hits[0], earlier: twice ? hits[0] : undefined, columns, values };
}

/**
 * A failure that named only its constraint: for a foreign key, the first record whose
 * reference is neither in the parent's file nor in the parent table (as the rollback left
 * it); for a unique key, the first record repeating an earlier one's value, else (a merge) the
 * first whose value a stored row holds under another merge key.
 */
async function byConstraint(
  source: TablePlan,
  constraint: string | undefined,
  tables: ReadonlyMap<string, TablePlan>,
  db: TxLike | null,
  matchOn: readonly string[] | undefined,
): Promise<Found | null> {
  const fk = source.info.foreignKeys.find((k) => k.name === constraint);
  if (fk)
    return { ...(db ? await firstOrphan(source, fk, tables, db) : { columns: fk.columns, values: null }), parent: fk.references.name };
  const unique = source.info.uniqueKeys.find((k) => k.name === constraint);
  if (!unique) return null;
  const seen = new Map<string, number>();
  let hit: Found = { columns: unique.columns, values: null };
  await scan(source, (row, index) => {
    const k = tupleKey(row, unique.columns);
    if (k === null) return false;
    const earlier = seen.get(k);
    if (earlier !== undefined) hit = { record: index, earlier, columns: unique.columns, values: JSON.parse(k) as unknown[] };
    seen.set(k, earlier ?? index);
    return earlier !== undefined;
  });
  if (hit.record === undefined && db && matchOn) return firstStoredClash(source, unique.columns, matchOn, db);
  return hit;
}

const CLASH_PROBE_ROWS = 5_000;

/** The first record whose unique value a stored row holds under another merge key (the rollback left the stored rows as they were). */
async function firstStoredClash(source: TablePlan, columns: readonly string[], matchOn: readonly string[], db: TxLike): Promise<Found> {
  const probe: { index: number; row: Row }[] = [];
  const wanted = [...new Set([...columns, ...matchOn])];
  await scan(source, (row, index) => {
    if (tupleKey(row, columns) !== null) probe.push({ index, row: Object.fromEntries(wanted.map((c) => [c, plainValue(row[c])])) });
    return false;
  });
  for (let at = 0; at < probe.length; at += CLASH_PROBE_ROWS) {
    const chunk = probe.slice(at, at + CLASH_PROBE_ROWS);
    const [hit] = await query<{ n: bigint | number }>(
      db,
      storedClash(source.info, columns, matchOn, JSON.stringify(chunk.map((p) => p.row))),
    );
    const found = hit ? chunk[Number(hit.n) - 1] : undefined;
    if (found) return { record: found.index, columns, values: columns.map((c) => found.row[c]) };
  }
  return { columns, values: null };
}

async function firstOrphan(source: TablePlan, fk: ForeignKeyInfo, tables: ReadonlyMap<string, TablePlan>, db: TxLike): Promise<Found> {
  const wanted = new Map<string, number>();
  await scan(source, (row, index) => {
    const k = tupleKey(row, fk.columns);
    if (k !== null && !wanted.has(k)) wanted.set(k, index);
    return false;
  });
  const parent = tables.get(fk.references.name);
  if (parent && parent.info.schema === fk.references.schema) {
    await scan(parent, (row) => {
      const k = tupleKey(row, fk.referencedColumns);
      if (k !== null) wanted.delete(k);
      return wanted.size === 0;
    });
  }
  const keys = [...wanted.keys()];
  const probe = keys.map((k) => Object.fromEntries(fk.referencedColumns.map((c, j) => [c, (JSON.parse(k) as unknown[])[j]])));
  const missing = keys.length ? await query<{ n: bigint | number }>(db, missingParentKeys(fk, JSON.stringify(probe))) : [];
  const first = missing.map((m) => keys[Number(m.n) - 1] as string).sort((a, b) => (wanted.get(a) ?? 0) - (wanted.get(b) ?? 0))[0];
  if (first === undefined) return { columns: fk.columns, values: null };
  return { record: wanted.get(first), columns: fk.columns, values: JSON.parse(first) as unknown[] };
}
