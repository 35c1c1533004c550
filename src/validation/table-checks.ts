import { z } from "zod";
import type { ColumnInfo } from "../sql/catalog.js";
import { type Check, columnCheck, Invalid } from "./column-types.js";

/**
 * Derives the zod schema of a table's records (keyed by column name) from the catalog:
 * types, int ranges, varchar lengths, numeric precision, enums, nullability, required columns.
 * Exported for composing your own table schemas; the loader runs the same column checks
 * through {@link compileTableValidator}, which is ~3x faster than zod's object machinery.
 */
export function deriveTableSchema(columns: readonly ColumnInfo[]): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  const required: string[] = [];
  for (const c of columns) {
    if (c.isGenerated) {
      // a value for it is left out: the database computes it
      shape[c.name] = z
        .unknown()
        .transform(() => undefined)
        .optional();
      continue;
    }
    if (!c.nullable && !c.hasDefault) required.push(c.name);
    const check = columnCheck(c);
    shape[c.name] = z
      .unknown()
      .transform((v, ctx) => {
        const r = check(v);
        if (!(r instanceof Invalid)) return r;
        ctx.issues.push({ code: "custom", message: r.message, input: v });
        return z.NEVER;
      })
      .optional();
  }
  return z.strictObject(shape).superRefine((row, ctx) => {
    for (const name of required) {
      if (row[name] === undefined) ctx.addIssue({ code: "custom", path: [name], message: "is required (NOT NULL, no default)" });
    }
  }) as unknown as z.ZodType<Record<string, unknown>>;
}

/** Why a column-keyed row was refused: the column and the reason. */
export class RowProblem {
  constructor(
    readonly column: string,
    readonly message: string,
  ) {}
}

/**
 * The derived schema compiled to one function: converts a column-keyed row in place of
 * zod's parse, with the same checks, messages and required-column rule as
 * {@link deriveTableSchema}. Returns the DB-ready row, or the first problem.
 */
export function compileTableValidator(
  columns: readonly ColumnInfo[],
  /** Called for a value of a generated column, which is left out: the database computes it. */
  onGenerated: (column: string) => void = () => undefined,
): (row: Record<string, unknown>) => Record<string, unknown> | RowProblem {
  const checks = new Map<string, Check>();
  const generated = new Set<string>();
  const required: string[] = [];
  for (const c of columns) {
    if (c.isGenerated) {
      generated.add(c.name);
      continue;
    }
    if (!c.nullable && !c.hasDefault) required.push(c.name);
    checks.set(c.name, columnCheck(c));
  }
  return (row) => {
    const out: Record<string, unknown> = {};
    let present = 0;
    for (const col in row) {
      const v = row[col];
      if (v === undefined) continue;
      const check = checks.get(col);
      if (check === undefined) {
        if (!generated.has(col)) return new RowProblem(col, "is not a column of the table");
        onGenerated(col);
        continue;
      }
      const r = check(v);
      if (r instanceof Invalid) return new RowProblem(col, r.message);
      out[col] = r;
      present++;
    }
    if (present < checks.size) {
      for (const name of required) if (out[name] === undefined) return new RowProblem(name, "is required (NOT NULL, no default)");
    }
    return out;
  };
}
