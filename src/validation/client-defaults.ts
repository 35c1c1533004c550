import { randomUUID } from "node:crypto";
import { createId } from "@paralleldrive/cuid2";
import { nanoid } from "nanoid";
import { ulid } from "ulid";
import type { ClientDefault, ClientDefaults } from "../db/client-schema.js";
import { cuid1, uuidv7 } from "./id-generators.js";

/** Column name → the default Prisma's client fills there. */
export type ColumnDefaults = Map<string, ClientDefault>;

/**
 * The client-side defaults of a model's table, keyed by column: the schema's fields mapped
 * through `fieldToColumn` (from the client's data model). Null when the model has none.
 */
export function columnDefaults(defaults: ClientDefaults, model: string, fieldToColumn: ReadonlyMap<string, string>): ColumnDefaults | null {
  const fields = defaults.get(model);
  if (!fields?.size) return null;
  const out: ColumnDefaults = new Map();
  for (const [field, d] of fields) out.set(fieldToColumn.get(field) ?? field, d);
  return out;
}

/**
 * A function that fills, in a column-keyed row, each client-default column the record left
 * out (`undefined`; an explicit null is kept and judged by the column's rules), as Prisma's
 * client would on create: cuid v1 or v2, UUID v4 (node:crypto) or v7, nanoid (of the given
 * length, 21 by default), ulid, and for `@updatedAt` one ISO timestamp per filler (a table's
 * records share it, as the rows of one Prisma `createMany` do).
 *
 * @example const fill = clientDefaultFiller(new Map([["id", { kind: "uuid", version: 4 }]])); fill(row)
 */
export function clientDefaultFiller(columns: ColumnDefaults): (row: Record<string, unknown>) => void {
  let now: string | null = null;
  const make = (d: ClientDefault): string => {
    switch (d.kind) {
      case "cuid":
        return d.version === 2 ? createId() : cuid1();
      case "uuid":
        return d.version === 7 ? uuidv7() : randomUUID();
      case "nanoid":
        return nanoid(d.length);
      case "ulid":
        return ulid();
      case "updatedAt":
        return (now ??= new Date().toISOString());
    }
  };
  const entries = [...columns];
  return (row) => {
    for (const [column, d] of entries) if (row[column] === undefined) row[column] = make(d);
  };
}
