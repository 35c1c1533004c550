import type { TablePlan } from "../planner/table-plan.js";
import { readRecords } from "../sources/read-records.js";
import type { ColumnInfo } from "../sql/catalog.js";
import type { KeyMode } from "../validation/table-mapping.js";
import { RawJson } from "../validation/raw-json.js";
import { validatorFor } from "./load.js";

/** Reading a release file again after the rollback, to name the record behind a refusal. */

type Row = Record<string, unknown>;

/**
 * Streams a source file through its validator, calling `visit` per row (keyed by column)
 * until it returns true or `until` records were read. Resolves with the file's key mode.
 */
export async function scan(
  source: TablePlan,
  visit: (row: Row, index: number) => boolean,
  until = Number.POSITIVE_INFINITY,
): Promise<KeyMode | null> {
  const v = validatorFor(source);
  for await (const b of readRecords(source.file.path, { batchSize: 10_000, label: source.file.file })) {
    const rows = v.validate(b.records, b.firstIndex);
    for (let i = 0; i < rows.length; i++) {
      const index = b.firstIndex + i;
      if (index >= until || visit(rows[i] as Row, index)) return v.keyMode;
    }
  }
  return v.keyMode;
}

/** The key mode of a file, from its first record alone (null for an empty file): later records may be invalid. */
export async function keyModeOf(source: TablePlan): Promise<KeyMode | null> {
  const v = validatorFor(source);
  for await (const b of readRecords(source.file.path, { batchSize: 1, label: source.file.file })) {
    try {
      v.validate(b.records.slice(0, 1), b.firstIndex);
    } catch {
      // the mode is decided before a value is checked; a bad first record still tells it
    }
    break;
  }
  return v.keyMode;
}

/** Columns as the file spells them: Prisma field names in a field-keyed file, else the columns. */
export function fieldName(source: TablePlan, cols: readonly string[], mode: KeyMode | null): string {
  return cols.map((c) => (mode === "fields" ? (source.mapping.columnToField.get(c) ?? c) : c)).join(", ");
}

const NUMBER_TYPES = new Set(["int2", "int4", "int8", "numeric", "float4", "float8", "oid"]);

/** `1.50` and `1.5`, `007` and `7` are the same number. */
function canonicalNumber(s: string): string {
  const m = /^([+-]?)0*(\d*?)(?:\.(\d*?)0*)?$/.exec(s.trim());
  if (!m) return s;
  const int = m[2] || "0";
  const frac = m[3] ?? "";
  const sign = m[1] === "-" && (int !== "0" || frac !== "") ? "-" : "";
  return `${sign}${int}${frac ? `.${frac}` : ""}`;
}

/**
 * One value of a column in a form both sides agree on: what the validator made of a record
 * (strings and numbers) and what the database returned for a staged row (bigint, Decimal,
 * Date) or printed in an error's DETAIL.
 */
export function comparable(c: ColumnInfo | undefined, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const x = v instanceof RawJson ? v.value : v;
  if (c && NUMBER_TYPES.has(c.type) && !c.isArray) return canonicalNumber(String(x));
  if (c && (c.type === "timestamptz" || c.type === "timestamp" || c.type === "date") && !c.isArray) {
    if (x instanceof Date) return String(x.getTime());
    const s = String(x);
    const t = Date.parse(c.type === "timestamptz" || /(Z|[+-]\d\d(:?\d\d)?)$/i.test(s) ? s : `${s}Z`);
    return Number.isNaN(t) ? s : String(t);
  }
  if (x instanceof Date) return x.toISOString();
  if (typeof x === "object") return JSON.stringify(x, (_k, y: unknown) => (typeof y === "bigint" ? y.toString() : y));
  return String(x);
}

/** A matcher of rows whose `columns` hold `values` (compared as {@link comparable}). */
export function rowsWith(source: TablePlan, columns: readonly string[], values: readonly unknown[]): (row: Row) => boolean {
  const infos = columns.map((c) => source.info.columns.find((x) => x.name === c));
  const want = values.map((v, i) => comparable(infos[i], v));
  return (row) => columns.every((c, i) => comparable(infos[i], row[c]) === want[i]);
}
