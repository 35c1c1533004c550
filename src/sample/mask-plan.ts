import type { MaskRule } from "../config/samples-schema.js";
import { EtlError } from "../errors.js";
import type { TableInfo } from "../sql/catalog.js";
import { columnCheck, Invalid } from "../validation/column-types.js";
import type { NameResolver } from "./names.js";
import type { ColumnMask, SourceTable } from "./plan-types.js";

/** The rule's name in manifests and logs (never a value or the secret). */
export function ruleName(rule: MaskRule): string {
  if (typeof rule === "string") return rule;
  if ("fixed" in rule) return "fixed";
  return `fn:${rule.name ?? (rule.fn.name || "anonymous")}`;
}

/** Rules that derive values from the keyed hash, and so need the secret. */
export const needsSecret = (rule: MaskRule): boolean =>
  typeof rule === "string" ? ["email", "name", "phone", "text"].includes(rule) : "fn" in rule;

const key = (table: string, column: string) => `${table}.${column}`;

/**
 * Resolves the configured masks to columns, checks that each can hold its values, and hands
 * every mask on a referenced key column down to the FK columns that reference it (through
 * chains of FKs), so that masked keys still join. Two different rules meeting on one column
 * are refused: they would break the join.
 */
export function planMasks(
  masks: Record<string, MaskRule>,
  resolver: NameResolver,
  output: ReadonlyMap<string, SourceTable>,
): Map<string, Map<string, ColumnMask>> {
  const byColumn = new Map<string, ColumnMask & { table: string; column: string }>();
  for (const [ref, rule] of Object.entries(masks)) {
    const { table, column } = resolver.qualifiedColumn(ref, `masks["${ref}"]`);
    checkFits(table, column, rule, ref);
    byColumn.set(key(table.name, column), { rule, ruleName: ruleName(rule), inheritedFrom: null, table: table.name, column });
  }
  // hand key masks down FK edges until nothing changes (chains: a → b → c)
  for (let changed = true; changed;) {
    changed = false;
    for (const child of output.values()) {
      for (const fk of child.foreignKeys) {
        fk.referencedColumns.forEach((refCol, i) => {
          const parentMask = byColumn.get(key(fk.references.name, refCol));
          const col = fk.columns[i] as string;
          if (!parentMask || (parentMask.rule === "keep" && !byColumn.has(key(child.name, col)))) return;
          const mine = byColumn.get(key(child.name, col));
          const origin = parentMask.inheritedFrom ?? key(fk.references.name, refCol);
          if (mine) {
            if (mine.ruleName !== parentMask.ruleName || mine.rule !== parentMask.rule) {
              throw new EtlError(
                "MASK_INVALID",
                `${key(child.name, col)} references ${key(fk.references.name, refCol)} (FK ${fk.name}) but is masked differently (${mine.ruleName} vs ${parentMask.ruleName}): the join would break`,
                {
                  step: "config",
                  table: child.name,
                  field: col,
                  next: `drop the mask on ${key(child.name, col)}: it inherits the key's mask`,
                },
              );
            }
            return;
          }
          byColumn.set(key(child.name, col), { ...parentMask, inheritedFrom: origin, table: child.name, column: col });
          changed = true;
        });
      }
    }
  }
  const out = new Map<string, Map<string, ColumnMask>>();
  for (const m of byColumn.values()) {
    if (!output.has(m.table)) continue;
    const t = out.get(m.table) ?? new Map<string, ColumnMask>();
    t.set(m.column, { rule: m.rule, ruleName: m.ruleName, inheritedFrom: m.inheritedFrom });
    out.set(m.table, t);
  }
  return out;
}

function checkFits(table: TableInfo, column: string, rule: MaskRule, ref: string): void {
  const col = table.columns.find((c) => c.name === column);
  if (!col) return;
  const refuse = (why: string) =>
    new EtlError("MASK_INVALID", `masks["${ref}"]: ${why}`, { step: "config", table: table.name, field: column });
  if (col.isGenerated) throw refuse(`${column} is a generated column; it is not exported`);
  if (rule === "null" && !col.nullable) throw refuse(`${table.name}.${column} is NOT NULL and cannot be masked with null`);
  if (typeof rule === "object" && "fixed" in rule) {
    const r = columnCheck(col)(rule.fixed);
    if (r instanceof Invalid) throw refuse(`the fixed value does not fit ${col.formatted}: ${r.message}`);
  }
  const textual = (t: string | null | undefined) => ["text", "varchar", "bpchar", "citext"].includes(t ?? "");
  // a domain over a text type takes text too; its CHECK is the import's to enforce
  if (
    ["email", "name", "phone", "text"].includes(rule as string) &&
    !textual(col.type) &&
    !(col.typeKind === "d" && textual(col.domainBase))
  ) {
    throw refuse(`the ${rule as string} masker makes text, but ${table.name}.${column} is ${col.formatted}; use { fixed } or { fn }`);
  }
}
