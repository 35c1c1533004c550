import { type ErrorCode, EtlError, type EtlErrorDetails } from "../errors.js";

/** Where a refused key was found, and how the file spells it, for a refusal's message. */
export interface RefusalPlace {
  /** `players.json: record #3`, or the table's name while the record is not known. */
  at: string;
  /** The columns as the file spells them (Prisma field names in a field-keyed file). */
  field: string;
  /** The key's value as people read it: `99`, `"EPL"`, `[1,"x"]`. */
  value: string;
  /** For a repeat: the earlier record holding the same value. */
  earlier?: number;
  /** For a foreign key found by its constraint: the parent table. */
  parent?: string;
}

/**
 * A refusal found on rows the database already holds (staging, a merge's upsert), by key:
 * the columns and the values of the offending row, and how to say it once the record is
 * known. Classifying the failure, after the rollback, finds the record in the release's file
 * (src/runner/diagnose-staged.ts) and names it like a refused batch of `direct` is named.
 */
export interface RefusedKey {
  table: string;
  columns: readonly string[];
  /**
   * The row's values of `columns`, as the database returned them (or as its DETAIL printed
   * them); null when the failure named only its `constraint` (a driver adapter drops the
   * DETAIL): the record is then found by the constraint, against the file and the database.
   */
  values: readonly unknown[] | null;
  constraint?: string;
  /** The value repeats within the release: the record named is the second one holding it. */
  repeat: boolean;
  /** The refusal is a record with no value in one of these columns (a merge key part): the first such record is named. */
  nullIn?: readonly string[];
  /** A merge's key: a unique value that no record repeats clashes with a stored row holding it under another key. */
  matchOn?: readonly string[];
  say: (p: RefusalPlace) => string;
}

/** A value as people and reports read it: never a bigint, a Decimal or a Date object. */
export function plainValue(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object" && "toFixed" in v) return String(v);
  return v;
}

/** `99` for one column, `[1,"x"]` for several. */
export function shownKey(values: readonly unknown[]): string {
  const plain = values.map(plainValue);
  return JSON.stringify(plain.length === 1 ? plain[0] : plain);
}

/** An {@link EtlError} whose record is still to be found in the file; see {@link RefusedKey}. */
export class RecordRefusal extends EtlError {
  constructor(
    code: ErrorCode,
    readonly key: RefusedKey,
    details: EtlErrorDetails,
  ) {
    const field = key.columns.join(", ") || undefined;
    super(code, key.say({ at: key.table, field: field ?? "", value: key.values ? shownKey(key.values) : "" }), {
      ...details,
      table: key.table,
      field,
      meta: key.values ? { ...details.meta, value: key.values.map(plainValue) } : details.meta,
    });
  }
}
