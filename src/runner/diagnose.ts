import { query, type TxLike } from "../db/prisma-like.js";
import { pgErrorInfo } from "../db/pg-errors.js";
import { EtlError, type Step } from "../errors.js";
import type { TablePlan } from "../planner/table-plan.js";
import { missingParentKeys } from "../sql/bulk.js";
import type { ForeignKeyInfo } from "../sql/catalog.js";
import type { OrphanFound } from "../strategies/bulk-rebuild.js";
import { fieldName, keyModeOf, scan } from "./diagnose-scan.js";
import type { BatchInsertFailure } from "./load.js";
import type { KeyMode } from "../validation/table-mapping.js";
import { shownKey } from "../validation/record-refusal.js";

type Row = Record<string, unknown>;
type Base = { step: "load"; table: string; file: string; cause: unknown; meta: Record<string, unknown>; next?: string };

const DUPLICATE_NEXT = "remove the duplicates from the release, then run again";
const orphanNext = (fk: ForeignKeyInfo) =>
  `add the missing ${fk.references.name} rows to the release (or load them first), or drop the records that reference them`;

/** A tuple key's values, one per column (the report's `meta.value`). */
const valueOf = (k: string): unknown[] => JSON.parse(k) as unknown[];
const tupleKey = (r: Row, cols: readonly string[]) => JSON.stringify(cols.map((c) => r[c] ?? null));
/** A unique key's value, or null when a column is NULL or left to its default: such rows never repeat one another. */
const uniqueKey = (r: Row, cols: readonly string[]) => (cols.every((c) => r[c] !== null && r[c] !== undefined) ? tupleKey(r, cols) : null);

/**
 * Turns a refused batch INSERT into an error that names the record: file, index, field,
 * value. Runs after the rollback, re-reading files (bounded by the batch size) or the
 * untouched parent tables.
 */
export async function diagnoseBatchFailure(f: BatchInsertFailure, db: TxLike, sources: ReadonlyMap<string, TablePlan>): Promise<EtlError> {
  const info = pgErrorInfo(f.cause);
  const { source } = f;
  const table = source.info.name;
  const last = f.firstIndex + f.rows.length - 1;
  const base = {
    step: "load" as const,
    table,
    file: source.file.file,
    cause: f.cause,
    meta: { sqlstate: info.sqlstate, constraint: info.constraint, detail: info.detail, hint: info.hint },
  };

  if (info.sqlstate === "23505") {
    const key = source.info.uniqueKeys.find((k) => k.name === info.constraint);
    if (key) return diagnoseDuplicate(f, key.columns, { ...base, next: DUPLICATE_NEXT }, info.message);
  }

  if (info.sqlstate === "23503") {
    const fk = source.info.foreignKeys.find((k) => k.name === info.constraint);
    if (fk) return diagnoseOrphan(f, fk, db, sources, { ...base, next: orphanNext(fk) });
  }

  return new EtlError(
    "SQL_ERROR",
    `${source.file.file}: Postgres refused records #${f.firstIndex}–#${last} of ${table}: ${info.message}${info.sqlstate ? ` (SQLSTATE ${info.sqlstate})` : ""}`,
    {
      ...base,
      record: f.firstIndex,
    },
  );
}

async function diagnoseOrphan(
  f: BatchInsertFailure,
  fk: ForeignKeyInfo,
  db: TxLike,
  sources: ReadonlyMap<string, TablePlan>,
  base: Base,
): Promise<EtlError> {
  const { source } = f;
  const wanted = new Map<string, number>();
  f.rows.forEach((r, i) => {
    if (fk.columns.every((c) => r[c] !== null && r[c] !== undefined)) {
      const k = tupleKey(r, fk.columns);
      if (!wanted.has(k)) wanted.set(k, i);
    }
  });
  const parentSource = fk.references.name === source.info.name ? source : sources.get(fk.references.name);
  if (parentSource) {
    await scan(parentSource, (row) => {
      wanted.delete(tupleKey(row, fk.referencedColumns));
      return wanted.size === 0;
    });
  } else {
    // The parent is not part of the release: it is as it was, so ask it which keys it lacks.
    const keys = [...wanted.keys()];
    const probe = keys.map((k) => Object.fromEntries(fk.referencedColumns.map((c, j) => [c, (JSON.parse(k) as unknown[])[j]])));
    const missing = await query<{ n: bigint | number }>(db, missingParentKeys(fk, JSON.stringify(probe))).catch(() => null);
    if (missing) {
      const gone = new Set(missing.map((m) => keys[Number(m.n) - 1]));
      for (const k of keys) if (!gone.has(k)) wanted.delete(k);
    }
  }
  const first = [...wanted].sort((a, b) => a[1] - b[1])[0];
  const field = fieldName(source, fk.columns, await keyModeOf(source));
  if (!first) {
    return new EtlError(
      "FK_VIOLATION",
      `${source.file.file}: a record in #${f.firstIndex}–#${f.firstIndex + f.rows.length - 1} references a missing ${fk.references.name} row (${fk.name})`,
      { ...base, record: f.firstIndex, field },
    );
  }
  const [k, i] = first;
  return new EtlError(
    "FK_VIOLATION",
    `${source.file.file}: record #${f.firstIndex + i} has ${field} = ${shownKey(valueOf(k))}, which is not in ${fk.references.name} (${fk.referencedColumns.join(", ")})`,
    {
      ...base,
      record: f.firstIndex + i,
      field,
      meta: { ...base.meta, value: valueOf(k) },
    },
  );
}

/**
 * An FK violation raised after the batches went in (a self-referencing table moved from its
 * staging table in the final phase, or a deferred constraint checked at COMMIT) names no
 * batch: find the first record whose reference has no row, scanning the child's file against
 * the parent's. Null when the constraint is not between two files of the release.
 *
 * @example await diagnoseLateOrphan(err, "apply", sources) // FK_VIOLATION … record #3 …
 */
export async function diagnoseLateOrphan(cause: unknown, step: Step, sources: ReadonlyMap<string, TablePlan>): Promise<EtlError | null> {
  const info = pgErrorInfo(cause);
  if (info.sqlstate !== "23503") return null;
  for (const source of sources.values()) {
    const fk = source.info.foreignKeys.find((k) => k.name === info.constraint);
    if (!fk) continue;
    const parent = fk.references.name === source.info.name ? source : sources.get(fk.references.name);
    if (!parent) return null;
    const keys = new Set<string>();
    await scan(parent, (row) => {
      keys.add(tupleKey(row, fk.referencedColumns));
      return false;
    });
    let hit: { index: number; key: string } | null = null;
    const mode = await scan(source, (row, index) => {
      if (fk.columns.some((c) => row[c] === null || row[c] === undefined)) return false;
      const key = tupleKey(row, fk.columns);
      if (!keys.has(key)) hit = { index, key };
      return hit !== null;
    });
    const h = hit as { index: number; key: string } | null;
    if (!h) return null;
    const field = fieldName(source, fk.columns, mode);
    return new EtlError(
      "FK_VIOLATION",
      `${source.file.file}: record #${h.index} has ${field} = ${shownKey(valueOf(h.key))}, which is not in ${fk.references.name} (${fk.referencedColumns.join(", ")})`,
      {
        step,
        table: source.info.name,
        file: source.file.file,
        record: h.index,
        field,
        cause,
        meta: { sqlstate: info.sqlstate, constraint: info.constraint, detail: info.detail, value: valueOf(h.key) },
        next: orphanNext(fk),
      },
    );
  }
  return null;
}

/**
 * Names the record behind an FK found broken when the bulk rebuild re-validated it: the
 * first record of the child's file holding that FK value.
 */
export async function diagnoseOrphanFound(o: OrphanFound, sources: ReadonlyMap<string, TablePlan>): Promise<EtlError> {
  const source = sources.get(o.fk.table.name);
  const want = JSON.stringify(o.values.map((v) => (v === null || v === undefined ? null : String(v))));
  let record: number | undefined;
  let mode: KeyMode | null = null;
  if (source) {
    mode = await scan(source, (row, index) => {
      const k = JSON.stringify(o.fk.columns.map((c) => (row[c] === null || row[c] === undefined ? null : String(row[c]))));
      if (k === want) record = index;
      return record !== undefined;
    });
  }
  const field = source ? fieldName(source, o.fk.columns, mode) : o.fk.columns.join(", ");
  const value = shownKey(o.values);
  return new EtlError(
    "FK_VIOLATION",
    `${source?.file.file ?? o.fk.table.name}: ${record === undefined ? "a record" : `record #${record}`} has ${field} = ${value}, which is not in ${o.fk.references.name} (${o.fk.referencedColumns.join(", ")})`,
    {
      step: "apply",
      table: o.fk.table.name,
      file: source?.file.file,
      record,
      field,
      meta: { constraint: o.fk.name, value: o.values },
      next: orphanNext(o.fk),
    },
  );
}

/** A unique key the batch broke: a repeat inside the batch, of an earlier record of the file, or of a row already there. */
async function diagnoseDuplicate(f: BatchInsertFailure, cols: readonly string[], base: Base, message: string): Promise<EtlError> {
  const { source } = f;
  const last = f.firstIndex + f.rows.length - 1;
  const field = fieldName(source, cols, await keyModeOf(source));
  const seen = new Map<string, number>();
  for (let i = 0; i < f.rows.length; i++) {
    const k = uniqueKey(f.rows[i] as Row, cols);
    if (k === null) continue;
    const prev = seen.get(k);
    if (prev !== undefined) {
      return new EtlError(
        "DUPLICATE_KEY",
        `${source.file.file}: record #${f.firstIndex + i} repeats ${field} = ${shownKey(valueOf(k))} of record #${f.firstIndex + prev}`,
        {
          ...base,
          record: f.firstIndex + i,
          field,
          meta: { ...base.meta, duplicateOf: f.firstIndex + prev, value: valueOf(k) },
        },
      );
    }
    seen.set(k, i);
  }
  let hit: { earlier: number; later: number; key: string } | null = null;
  await scan(
    source,
    (row, index) => {
      const k = uniqueKey(row, cols);
      const i = k === null ? undefined : seen.get(k);
      if (i !== undefined) hit = { earlier: index, later: f.firstIndex + i, key: k as string };
      return hit !== null;
    },
    f.firstIndex,
  );
  const h = hit as { earlier: number; later: number; key: string } | null;
  if (h) {
    return new EtlError(
      "DUPLICATE_KEY",
      `${source.file.file}: record #${h.later} repeats ${field} = ${shownKey(valueOf(h.key))} of record #${h.earlier}`,
      {
        ...base,
        record: h.later,
        field,
        meta: { ...base.meta, duplicateOf: h.earlier, value: valueOf(h.key) },
      },
    );
  }
  const defaulted = f.rows.some((r) => uniqueKey(r, cols) === null)
    ? "; records without it get the column default (a serial?), which can collide with given values"
    : "";
  return new EtlError(
    "DUPLICATE_KEY",
    `${source.file.file}: a record in #${f.firstIndex}–#${last} duplicates ${field} of an existing row (${message})${defaulted}`,
    {
      ...base,
      record: f.firstIndex,
      field,
    },
  );
}
