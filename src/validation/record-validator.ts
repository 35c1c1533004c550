import { isDeepStrictEqual } from "node:util";
import type { z } from "zod";
import { EtlError } from "../errors.js";
import { memberText } from "../sources/member-texts.js";
import type { RawBatch } from "../sources/read-records.js";
import { findRepeatedKey } from "../sources/repeated-keys.js";
import type { TableInfo } from "../sql/catalog.js";
import { clientDefaultFiller } from "./client-defaults.js";
import { compileTableValidator, RowProblem } from "./table-checks.js";
import { RawJson } from "./raw-json.js";
import { TableSchema } from "./table-schema.js";
import { detectKeyMode, type KeyMode, type TableMapping, unknownKey } from "./table-mapping.js";

type Row = Record<string, unknown>;

const shown = (v: unknown) => {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    // nested deeper than the stack (the hostile corpus has one), or a cycle
    return "(a value too deeply nested to show)";
  }
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
};

/** A value as the report carries it: itself when small, else its start (a report must not carry a 10 MB string). */
const reportable = (value: unknown) =>
  value === null || typeof value === "number" || typeof value === "boolean" || (typeof value === "string" && value.length <= 200)
    ? value
    : shown(value);

/**
 * Validates one table's records: a repeated key is refused (unless the table says
 * `duplicateKeys: "last-wins"`), the user's zod schema (if any) runs on the record in the
 * schema's key style (see table-schema.ts), then the schema derived from the catalog on the
 * column-keyed record. Returns rows keyed by column name with DB-ready values; json/jsonb
 * values carry the file's raw text ({@link RawJson}). The first bad record stops the run
 * with its file, index, field (as the file spells it) and reason.
 */
export class RecordValidator {
  private mode: KeyMode | null;
  private readonly derived: (row: Row) => Row | RowProblem;
  private rename: Map<string, string> | null = null;
  private readonly schema: TableSchema | null;
  /** json/jsonb columns: sent as the file's text, so their numbers keep every digit. */
  private readonly jsonColumns: string[];
  /** Fills what Prisma's client would (`@default(cuid())`, `@updatedAt` …) where a record leaves it out. */
  private readonly fillDefaults: ((row: Row) => void) | null;

  /** Per generated column, how many records carried a value for it (left out: the database computes it). */
  readonly generatedSkipped = new Map<string, number>();

  /** Throws CONFIG_INVALID when `userSchema` has a key that is neither a field nor a column of the table. */
  constructor(
    private readonly mapping: TableMapping,
    private readonly info: TableInfo,
    private readonly file: string,
    keys: "auto" | KeyMode,
    userSchema: z.ZodType | undefined,
    private readonly unknownKeys: "error" | "ignore" = "error",
  ) {
    this.mode = keys === "auto" ? null : keys;
    this.derived = compileTableValidator(info.columns, (c) => this.generatedSkipped.set(c, (this.generatedSkipped.get(c) ?? 0) + 1));
    this.schema = userSchema ? new TableSchema(userSchema, mapping, info) : null;
    this.fillDefaults = mapping.clientDefaults ? clientDefaultFiller(mapping.clientDefaults) : null;
    this.jsonColumns = info.columns.filter((c) => !c.isGenerated && (c.type === "json" || c.type === "jsonb")).map((c) => c.name);
  }

  /** Key mode in use, once known. */
  get keyMode(): KeyMode | null {
    return this.mode;
  }

  private fail(index: number, field: string | undefined, reason: string, meta: Record<string, unknown> = {}): never {
    throw new EtlError("VALIDATION_FAILED", `${this.file}: record #${index}${field ? `, field "${field}"` : ""}: ${reason}`, {
      step: "load",
      file: this.file,
      record: index,
      field,
      table: this.mapping.table,
      meta,
      next: `fix ${field ? `"${field}" in ` : ""}record #${index} of ${this.file} (0-based), then run the same command again`,
    });
  }

  private renameMap(): Map<string, string> {
    if (this.rename) return this.rename;
    const cols = this.info.columns.map((c) => c.name);
    this.rename = this.mode === "fields" && this.mapping.fieldToColumn.size ? this.mapping.fieldToColumn : new Map(cols.map((c) => [c, c]));
    return this.rename;
  }

  /** A column's key as the file spells it. */
  private fileKey(column: string): string {
    return this.mode === "fields" ? (this.mapping.columnToField.get(column) ?? column) : column;
  }

  /**
   * Keys that decide the key mode. Keys that match neither naming do not count with
   * `unknownKeys: "ignore"`, nor with a table schema (which may drop them; the rename after
   * it refuses those it keeps).
   */
  private keysForDetection(rec: Row): string[] {
    const keys = Object.keys(rec);
    if (this.unknownKeys !== "ignore" && !this.schema) return keys;
    const columns = new Set(this.info.columns.map((c) => c.name));
    return keys.filter((k) => this.mapping.fieldToColumn.has(k) || columns.has(k));
  }

  /** Validates and converts `records` (from index `firstIndex`), without the checks that need the file's text. */
  validate(records: unknown[], firstIndex: number): Row[] {
    return this.validateBatch({ firstIndex, records, texts: [], mayRepeat: [] });
  }

  /** Validates and converts a batch as the reader yields it. */
  validateBatch(batch: RawBatch): Row[] {
    const { records, texts, mayRepeat, firstIndex, indexes } = batch;
    const out: Row[] = new Array(records.length);
    let suspect = 0;
    for (let i = 0; i < records.length; i++) {
      const repeats = mayRepeat[suspect] === i;
      if (repeats) {
        suspect++;
        this.refuseRepeatedKey(texts[i], firstIndex + i);
      }
      out[i] = this.one(records[i], indexes?.[i] ?? firstIndex + i, texts[i], repeats);
    }
    return out;
  }

  private refuseRepeatedKey(text: string | undefined, index: number): void {
    if (this.mapping.duplicateKeys === "last-wins" || text === undefined) return;
    const path = findRepeatedKey(text);
    if (!path) return;
    const key = path[path.length - 1] as string;
    const table = this.mapping.table;
    throw new EtlError(
      "REPEATED_KEY",
      `${this.file}: record #${index} repeats the key ${JSON.stringify(key)}${path.length > 1 ? ` (in ${path.slice(0, -1).join(".")})` : ""}; only its last value would be read`,
      {
        step: "load",
        file: this.file,
        record: index,
        field: path.join("."),
        table,
        meta: { key, path },
        next: `remove the repeated key from the record, or set duplicateKeys: "last-wins" on table ${table} to keep the last value`,
      },
    );
  }

  /** `repeats`: a key may occur twice in `text` (kept with `last-wins`). */
  private one(rec: unknown, index: number, text: string | undefined, repeats: boolean): Row {
    if (rec === null || typeof rec !== "object" || Array.isArray(rec)) {
      this.fail(index, undefined, `expected a JSON object, got ${rec === null ? "null" : Array.isArray(rec) ? "an array" : typeof rec}`);
    }
    const input = rec as Row;
    if (this.mode === null) this.mode = detectKeyMode(this.keysForDetection(input), this.mapping, this.info, this.file);
    let source = input;
    if (this.schema) {
      const r = this.schema.run(input, this.mode);
      if ("collision" in r) throw unknownKey(r.collision, index, this.mapping, this.info, this.file, this.mode);
      if (!r.ok) {
        const { field, value, message } = r.failure;
        this.fail(index, field, value === undefined ? message : `${message} (got ${shown(value)})`, { value: reportable(value) });
      }
      source = r.value as Row;
    }
    const rename = this.renameMap();
    const row: Row = {};
    for (const key in source) {
      const col = rename.get(key);
      if (col === undefined) {
        if (this.unknownKeys === "ignore") continue;
        throw unknownKey(key, index, this.mapping, this.info, this.file, this.mode);
      }
      row[col] = source[key];
    }
    if (this.mode === "fields") this.enumLabels(row);
    this.fillDefaults?.(row);
    const r = this.derived(row);
    if (r instanceof RowProblem) {
      const col = r.column;
      const field = col !== undefined && this.mode === "fields" ? (this.mapping.columnToField.get(col) ?? col) : col;
      this.fail(index, field, r.message, {
        column: col,
        ...(col !== undefined && row[col] !== undefined ? { value: reportable(row[col]) } : {}),
      });
    }
    if (this.jsonColumns.length && text !== undefined) this.keepRawJson(r, input, source, text, repeats);
    return r;
  }

  /** A field-keyed record's enum values, by Prisma name (`PG_13`), as their database labels (`PG-13`); labels pass as they are. */
  private enumLabels(row: Row): void {
    for (const [col, labels] of this.mapping.enumLabels) {
      const v = row[col];
      if (typeof v === "string") row[col] = labels.get(v) ?? v;
      else if (Array.isArray(v)) row[col] = v.map((x: unknown) => (typeof x === "string" ? (labels.get(x) ?? x) : x));
    }
  }

  /** Puts the file's own text in place of each json/jsonb value, unless the table schema changed the value. */
  private keepRawJson(row: Row, input: Row, source: Row, text: string, repeats: boolean): void {
    for (const col of this.jsonColumns) {
      const v = row[col];
      if (v === undefined || v === null) continue;
      const key = this.fileKey(col);
      if (source !== input && source[key] !== input[key] && !isDeepStrictEqual(source[key], input[key])) continue;
      const raw = memberText(text, key, repeats);
      if (raw !== undefined) row[col] = new RawJson(raw, v);
    }
  }
}
