import { EtlError } from "../errors.js";
import { quoteLongNumbers } from "../sources/long-numbers.js";
import { columnCheck, Invalid } from "../validation/column-types.js";
import { type ColumnMasker, columnMasker } from "./maskers.js";
import type { TablePlan } from "./plan-types.js";

const LONG_RUN = /[\d.]{16}/;

/**
 * Masks the rows of one table: parses each JSON line (digit-exact for long numbers), applies
 * the column maskers, checks that every masked value still fits its column (type, length,
 * NOT NULL: the import would accept it), and re-checks every unique key that has a masked
 * column, so two rows that masking made equal are an error naming the columns.
 */
export class RowMasker {
  private readonly maskers: [string, ColumnMasker, (v: unknown) => unknown][] = [];
  private readonly unique: { columns: string[]; seen: Set<string> }[] = [];
  private index = 0;

  constructor(
    private readonly plan: TablePlan,
    hash: (domain: string, value: unknown) => string,
  ) {
    for (const [column, mask] of plan.masks) {
      const col = plan.table.columns.find((c) => c.name === column);
      if (!col) continue;
      this.maskers.push([column, columnMasker(mask.rule, col, { table: plan.table.name, hash }), columnCheck(col)]);
    }
    const masked = new Set(plan.masks.keys());
    for (const k of plan.table.uniqueKeys) {
      if (k.columns.some((c) => masked.has(c))) this.unique.push({ columns: k.columns, seen: new Set() });
    }
  }

  get active(): boolean {
    return this.maskers.length > 0;
  }

  /** One JSON line in, the masked JSON line out. */
  maskLine(line: string): string {
    const row = JSON.parse(LONG_RUN.test(line) ? quoteLongNumbers(line) : line) as Record<string, unknown>;
    for (const [column, mask, check] of this.maskers) {
      const v = mask(row[column] ?? null);
      const ok = check(v);
      if (ok instanceof Invalid) {
        throw new EtlError(
          "MASK_INVALID",
          `the mask of ${this.plan.table.name}.${column} made a value the column cannot hold: ${ok.message}`,
          {
            step: "write",
            table: this.plan.table.name,
            field: column,
            record: this.index,
            next: "choose a rule that fits the column's type and length",
          },
        );
      }
      row[column] = v;
    }
    for (const u of this.unique) {
      const parts = u.columns.map((c) => row[c] ?? null);
      if (parts.some((p) => p === null)) continue;
      const k = JSON.stringify(parts);
      if (u.seen.has(k)) {
        throw new EtlError(
          "MASK_COLLISION",
          `masking made two rows of ${this.plan.table.name} equal on unique (${u.columns.join(", ")}); the masked value ${k} occurs twice`,
          {
            step: "write",
            table: this.plan.table.name,
            field: u.columns.find((c) => this.plan.masks.has(c)),
            record: this.index,
            next: "use a masker that keeps distinct inputs distinct (email, a { fn } with ctx.hash), or do not mask that key",
          },
        );
      }
      u.seen.add(k);
    }
    this.index++;
    return JSON.stringify(row);
  }
}
