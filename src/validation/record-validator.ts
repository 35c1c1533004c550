import type { z } from "zod";
import { EtlError } from "../errors.js";
import type { TableInfo } from "../sql/catalog.js";
import { compileTableValidator, RowProblem } from "./column-types.js";
import { detectKeyMode, type KeyMode, type TableMapping, unknownKey } from "./table-mapping.js";

type Row = Record<string, unknown>;

/**
 * Validates one table's records: the user's zod schema (if any) on the record as read,
 * then the schema derived from the catalog on the column-keyed record. Returns rows keyed
 * by column name with DB-ready values. The first bad record stops the run with its
 * file, index, field and reason.
 */
export class RecordValidator {
  private mode: KeyMode | null;
  private readonly derived: (row: Row) => Row | RowProblem;
  private rename: Map<string, string> | null = null;

  constructor(
    private readonly mapping: TableMapping,
    private readonly info: TableInfo,
    private readonly file: string,
    keys: "auto" | KeyMode,
    private readonly userSchema: z.ZodType | undefined,
    private readonly unknownKeys: "error" | "ignore" = "error",
  ) {
    this.mode = keys === "auto" ? null : keys;
    this.derived = compileTableValidator(info.columns);
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
    });
  }

  private renameMap(): Map<string, string> {
    if (this.rename) return this.rename;
    const cols = this.info.columns.map((c) => c.name);
    this.rename = this.mode === "fields" && this.mapping.fieldToColumn.size ? this.mapping.fieldToColumn : new Map(cols.map((c) => [c, c]));
    return this.rename;
  }

  /** Keys that decide the key mode: with `unknownKeys: "ignore"`, keys that match neither naming do not count. */
  private keysForDetection(rec: Row): string[] {
    const keys = Object.keys(rec);
    if (this.unknownKeys !== "ignore") return keys;
    const columns = new Set(this.info.columns.map((c) => c.name));
    return keys.filter((k) => this.mapping.fieldToColumn.has(k) || columns.has(k));
  }

  /** Validates and converts `records` (from index `firstIndex`). */
  validate(records: unknown[], firstIndex: number): Row[] {
    const out: Row[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const index = firstIndex + i;
      let rec = records[i];
      if (rec === null || typeof rec !== "object" || Array.isArray(rec)) {
        this.fail(index, undefined, `expected a JSON object, got ${rec === null ? "null" : Array.isArray(rec) ? "an array" : typeof rec}`);
      }
      if (this.userSchema) {
        const r = this.userSchema.safeParse(rec);
        if (!r.success) {
          const issue = r.error.issues[0];
          this.fail(index, issue?.path.map(String).join(".") || undefined, issue?.message ?? "failed the table's schema");
        }
        rec = r.data;
      }
      if (this.mode === null) this.mode = detectKeyMode(this.keysForDetection(rec as Row), this.mapping, this.info, this.file);
      const rename = this.renameMap();
      const row: Row = {};
      for (const key in rec as Row) {
        const col = rename.get(key);
        if (col === undefined) {
          if (this.unknownKeys === "ignore") continue;
          throw unknownKey(key, index, this.mapping, this.info, this.file);
        }
        row[col] = (rec as Row)[key];
      }
      const r = this.derived(row);
      if (r instanceof RowProblem) {
        const col = r.column;
        const field = col !== undefined && this.mode === "fields" ? (this.mapping.columnToField.get(col) ?? col) : col;
        this.fail(index, field, r.message, { column: col });
      }
      out[i] = r;
    }
    return out;
  }
}
