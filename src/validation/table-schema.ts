/**
 * A table's own zod `schema` applies whatever the file's keys are. It may be written with
 * Prisma field names or with column names: its style is read from its keys (the zod object
 * shape, through optional/pipe/refine/intersection/union/lazy wrappers), the record is
 * renamed into that style before it runs, and its failures are reported in the file's
 * spelling. A key that is neither a field nor a column of the table is a config error.
 * A schema whose keys cannot be read (z.custom, z.any, z.record, an empty object …) sees
 * the record keyed by Prisma field names (column names for a table without a model),
 * whatever the file's style, so it never depends on how a file was exported.
 */
import type { z } from "zod";
import { EtlError } from "../errors.js";
import type { TableInfo } from "../sql/catalog.js";
import type { KeyMode, TableMapping } from "./table-mapping.js";

type Row = Record<string, unknown>;

interface ZodDef {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  left?: unknown;
  right?: unknown;
  options?: unknown[];
  getter?: () => unknown;
}

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional", "success"]);

/** The top-level keys a zod 4 schema reads (any zod object's `shape` otherwise), or null when they cannot be known. */
export function schemaKeys(schema: unknown, depth = 0): Set<string> | null {
  if (!schema || typeof schema !== "object" || depth > 32) return null;
  const def = (schema as { _zod?: { def?: ZodDef } })._zod?.def;
  const shape = def?.shape ?? (schema as { shape?: unknown }).shape;
  if (shape && typeof shape === "object") {
    const keys = Object.keys(shape);
    return keys.length ? new Set(keys) : null;
  }
  if (!def?.type) return null;
  const union = (parts: unknown[]) => {
    const sets = parts.map((p) => schemaKeys(p, depth + 1)).filter((s): s is Set<string> => s !== null);
    return sets.length ? new Set(sets.flatMap((s) => [...s])) : null;
  };
  if (WRAPPERS.has(def.type)) return schemaKeys(def.innerType, depth + 1);
  if (def.type === "pipe") return schemaKeys(def.in, depth + 1) ?? schemaKeys(def.out, depth + 1);
  if (def.type === "intersection") return union([def.left, def.right]);
  if (def.type === "union") return union(def.options ?? []);
  if (def.type === "lazy" && def.getter) return schemaKeys(def.getter(), depth + 1);
  return null;
}

/** The style a table schema runs in: a key style, or `file` when its keys read the same both ways. */
export type SchemaStyle = KeyMode | "file";

function configError(m: TableMapping, message: string, field?: string): EtlError {
  return new EtlError("CONFIG_INVALID", `table ${m.table}: ${message}`, {
    step: "config",
    table: m.table,
    field,
    next: "write the table's schema with the table's Prisma field names or its column names",
  });
}

/**
 * Decides the style of the table schema `schema` from its keys; throws CONFIG_INVALID for a
 * key that matches neither a field nor a column, or for a schema that mixes the two.
 * Keys that are field names of other columns (a model mapping `a` to column `b` and `b` to
 * `a`) cannot tell; the schema then follows the file's style.
 */
export function resolveSchemaStyle(schema: z.ZodType, m: TableMapping, info: TableInfo): SchemaStyle {
  const keys = schemaKeys(schema);
  if (!keys) return m.fieldToColumn.size ? "fields" : "columns";
  const columns = new Set(info.columns.map((c) => c.name));
  const unknown = [...keys].filter((k) => !m.fieldToColumn.has(k) && !columns.has(k));
  if (unknown.length) {
    const what = m.model ? `a field of model ${m.model} nor a column of table ${m.table}` : `a column of table ${m.table}`;
    throw configError(
      m,
      `the schema's key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")} ${unknown.length > 1 ? "are" : "is"} neither ${what}`,
      unknown[0],
    );
  }
  const onlyFields = [...keys].filter((k) => !columns.has(k));
  const onlyColumns = [...keys].filter((k) => !m.fieldToColumn.has(k));
  if (onlyFields.length && onlyColumns.length) {
    throw configError(
      m,
      `the schema mixes Prisma field names (${onlyFields.join(", ")}) and column names (${onlyColumns.join(", ")}); use one style`,
    );
  }
  if (onlyFields.length) return "fields";
  if (onlyColumns.length) return "columns";
  // every key is both a field and a column name: the same either way (`id`), or a model
  // whose field names are other columns' names, where only the file's style can tell
  return "file";
}

/**
 * Checks a table's `schema` against the table before anything is loaded: CONFIG_INVALID for
 * a key that is neither a field nor a column. The validator checks the same when it is
 * built; calling this first moves the error before the backup and the transaction.
 */
export function checkTableSchema(schema: z.ZodType | undefined, m: TableMapping, info: TableInfo): void {
  if (schema) resolveSchemaStyle(schema, m, info);
}

/** A failure of the table schema, in the file's spelling. */
export interface SchemaFailure {
  field: string | undefined;
  value: unknown;
  message: string;
}

/** Runs a table schema on records of one file, renaming them into the schema's style and back. */
export class TableSchema {
  readonly style: SchemaStyle;

  constructor(
    private readonly schema: z.ZodType,
    private readonly m: TableMapping,
    info: TableInfo,
  ) {
    this.style = resolveSchemaStyle(schema, m, info);
  }

  private rename(name: string, from: KeyMode, to: KeyMode): string {
    if (from === to) return name;
    return (from === "fields" ? this.m.fieldToColumn.get(name) : this.m.columnToField.get(name)) ?? name;
  }

  /** `rec` with its keys renamed; null when two keys would become one (a record mixing both styles). */
  private renamed(rec: Row, from: KeyMode, to: KeyMode): { row: Row; collision?: string } {
    const row: Row = {};
    for (const k in rec) {
      const name = this.rename(k, from, to);
      if (Object.hasOwn(row, name)) return { row, collision: k };
      row[name] = rec[k];
    }
    return { row };
  }

  /**
   * The schema's output for `rec` (a record keyed in `fileStyle`), keyed in `fileStyle`
   * again, or why it failed. Keys that are neither a field nor a column pass through
   * unchanged; a key that would collide once renamed (a record mixing both styles) is
   * returned as `collision`, for the caller to refuse as unknown.
   */
  run(rec: Row, fileStyle: KeyMode): { ok: true; value: unknown } | { ok: false; failure: SchemaFailure } | { collision: string } {
    const to = this.style === "file" ? fileStyle : this.style;
    let input = rec;
    if (to !== fileStyle) {
      const r = this.renamed(rec, fileStyle, to);
      if (r.collision !== undefined) return { collision: r.collision };
      input = r.row;
    }
    const r = this.schema.safeParse(input);
    if (r.success) {
      const out = r.data;
      if (to === fileStyle || !out || typeof out !== "object" || Array.isArray(out)) return { ok: true, value: out };
      const back = this.renamed(out as Row, to, fileStyle);
      return back.collision !== undefined ? { collision: back.collision } : { ok: true, value: back.row };
    }
    const issue = r.error.issues[0];
    if (!issue) return { ok: false, failure: { field: undefined, value: undefined, message: "failed the table's schema" } };
    const path = issue.path.map(String);
    const unrecognized = issue.code === "unrecognized_keys" ? issue.keys[0] : undefined;
    if (unrecognized !== undefined) path.push(unrecognized);
    let value: unknown = input;
    for (const p of path) value = value && typeof value === "object" ? (value as Row)[p] : undefined;
    if (path[0] !== undefined) path[0] = this.rename(path[0], to, fileStyle);
    return { ok: false, failure: { field: path.join(".") || undefined, value, message: issue.message } };
  }
}
