import { EtlError } from "../errors.js";
import type { TableInfo } from "../sql/catalog.js";
import type { DataModel, DataModelEnum } from "./prisma-enums.js";
import type { ColumnDefaults } from "./client-defaults.js";

/** How a release's keys and a Prisma model line up with one real table. */
export interface TableMapping {
  /** Prisma model name, or null for a table configured by name. */
  model: string | null;
  table: string;
  /** Prisma field name → column name (scalar fields only). Empty without a model. */
  fieldToColumn: Map<string, string>;
  columnToField: Map<string, string>;
  /** A key repeated within one object of a record: refused (`error`), or the last value kept (`last-wins`). */
  duplicateKeys: "error" | "last-wins";
  /**
   * Enum columns whose Prisma value names differ from their database labels (`@map`): column →
   * Prisma name → label. A field-keyed file's values are read through it.
   */
  enumLabels: Map<string, Map<string, string>>;
  /** Columns Prisma's client fills when a record leaves them out (src/validation/client-defaults.ts). */
  clientDefaults?: ColumnDefaults | null;
}

/** The parts of a table's config entry that decide how its records' keys are read. */
export interface KeyConfig {
  model?: string;
  table?: string;
  /** Default `error`. */
  duplicateKeys?: "error" | "last-wins";
}

/** Resolves a config entry (`model` or `table`) to the table name and field/column maps. */
export function mapModel(entry: KeyConfig, dm: DataModel | undefined): TableMapping {
  const duplicateKeys = entry.duplicateKeys ?? "error";
  if (entry.table !== undefined) {
    return { model: null, table: entry.table, fieldToColumn: new Map(), columnToField: new Map(), duplicateKeys, enumLabels: new Map() };
  }
  const name = entry.model as string;
  const model = dm?.models[name];
  if (!dm) {
    throw new EtlError("CONFIG_INVALID", `model "${name}" cannot be resolved: the Prisma client exposes no data model`, {
      step: "config",
      next: 'configure the table by name ({ table: "…" }) or use a Prisma 7 client',
    });
  }
  if (!model) {
    throw new EtlError("CONFIG_INVALID", `unknown Prisma model "${name}"; known models: ${Object.keys(dm.models).join(", ")}`, {
      step: "config",
    });
  }
  const fieldToColumn = new Map<string, string>();
  const enumLabels = new Map<string, Map<string, string>>();
  for (const f of model.fields) {
    if (f.kind === "scalar" || f.kind === "enum") fieldToColumn.set(f.name, f.dbName ?? f.name);
    const labels = f.kind === "enum" ? renamedValues(dm.enums?.[f.type]) : null;
    if (labels) enumLabels.set(f.dbName ?? f.name, labels);
  }
  return {
    model: name,
    table: model.dbName ?? name,
    fieldToColumn,
    columnToField: new Map([...fieldToColumn].map(([f, c]) => [c, f])),
    duplicateKeys,
    enumLabels,
  };
}

/** Prisma name → database label of an enum's `@map`ped values; null when every value is spelled alike. */
function renamedValues(e: DataModelEnum | undefined): Map<string, string> | null {
  const renamed = (e?.values ?? []).filter((v) => v.dbName !== null && v.dbName !== v.name);
  return renamed.length ? new Map(renamed.map((v) => [v.name, v.dbName as string])) : null;
}

export type KeyMode = "fields" | "columns";

/**
 * Decides whether a file's keys are Prisma field names or column names, from its first
 * record. Unambiguous or an error: a key set that reads differently both ways needs `keys` in config.
 */
export function detectKeyMode(keys: readonly string[], m: TableMapping, info: TableInfo, file: string): KeyMode {
  const columns = new Set(info.columns.map((c) => c.name));
  if (m.fieldToColumn.size === 0) return "columns";
  const asFields = keys.every((k) => m.fieldToColumn.has(k));
  const asColumns = keys.every((k) => columns.has(k));
  if (asFields && asColumns) {
    const differs = keys.filter((k) => m.fieldToColumn.get(k) !== k);
    if (differs.length === 0) return "fields";
    throw new EtlError(
      "AMBIGUOUS_KEYS",
      `keys ${differs.map((k) => `"${k}"`).join(", ")} are both Prisma field names and different column names`,
      { step: "load", file, record: 0, table: m.table, next: `set keys: "fields" or keys: "columns" for this table in the config` },
    );
  }
  if (asFields) return "fields";
  if (asColumns) return "columns";
  const unknown = keys.find((k) => !m.fieldToColumn.has(k) && !columns.has(k));
  if (unknown !== undefined) throw unknownKey(unknown, 0, m, info, file, styleOf(keys, m, columns));
  throw new EtlError("UNKNOWN_KEY", "the first record mixes Prisma field names and column names", {
    step: "load",
    file,
    record: 0,
    table: m.table,
    next: "use one naming for every key in a file",
  });
}

/** The style of the keys that do match, when they agree on one (an unknown key among field names is listed with the fields). */
function styleOf(keys: readonly string[], m: TableMapping, columns: ReadonlySet<string>): KeyMode | null {
  const known = keys.filter((k) => m.fieldToColumn.has(k) || columns.has(k));
  if (known.length === 0) return null;
  const asFields = known.every((k) => m.fieldToColumn.has(k));
  const asColumns = known.every((k) => columns.has(k));
  if (asFields === asColumns) return null;
  return asFields ? "fields" : "columns";
}

/**
 * A key that is neither a field nor a column. The known keys are listed in the file's own
 * style (`mode`): Prisma field names for a field-keyed file, column names for a column-keyed
 * one, both while the style is not known.
 */
export function unknownKey(key: string, record: number, m: TableMapping, info: TableInfo, file: string, mode: KeyMode | null): EtlError {
  const columns = info.columns.map((c) => c.name);
  const fields = [...m.fieldToColumn.keys()];
  const known =
    fields.length === 0 || mode === "columns"
      ? `known columns: ${columns.join(", ")}`
      : mode === "fields"
        ? `known fields: ${fields.join(", ")}`
        : `known fields: ${fields.join(", ")}; or columns: ${columns.join(", ")}`;
  return new EtlError(
    "UNKNOWN_KEY",
    `unknown key ${JSON.stringify(key)}: not a ${m.model ? `field of model ${m.model} nor a ` : ""}column of table ${m.table} (${known})`,
    {
      step: "load",
      file,
      record,
      field: key,
      table: m.table,
      next: `rename or remove the key, or set unknownKeys: "ignore" on table ${m.table}`,
    },
  );
}
