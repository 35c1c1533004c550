/**
 * The Prisma side of the schema-sync test, read with Prisma's OWN schema parser.
 *
 * The `prisma` CLI package ships the schema parser/validator as WebAssembly
 * (`node_modules/prisma/build/prisma_schema_build_bg.wasm`, the same module `prisma generate`
 * and `prisma validate` use). Its wasm-bindgen glue is bundled inside the CLI, so this file
 * instantiates the module itself with a minimal glue (4 imports) and calls `get_dmmf`,
 * which works fully offline.
 *
 * {@link expectedTables} then turns the DMMF datamodel into the PostgreSQL objects Prisma
 * Migrate derives from it (table/column names, native types, nullability, defaults, enum
 * types, primary keys, unique indexes, foreign keys with referential actions), following
 * Prisma's documented mapping and constraint-naming conventions.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

// ---------------------------------------------------------------------------------------------
// DMMF types (the subset used here)
// ---------------------------------------------------------------------------------------------

export interface DmmfFieldDefault {
  name?: string;
  args?: unknown[];
}

export interface DmmfField {
  name: string;
  kind: "scalar" | "object" | "enum" | "unsupported";
  isList: boolean;
  isRequired: boolean;
  isUnique: boolean;
  isId: boolean;
  hasDefaultValue: boolean;
  type: string;
  dbName: string | null;
  nativeType: [string, string[]] | null;
  default?: DmmfFieldDefault | string | number | boolean;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
  isUpdatedAt: boolean;
}

export interface DmmfIndex {
  model: string;
  type: "id" | "normal" | "unique" | "fulltext";
  isDefinedOnField: boolean;
  dbName: string | null;
  name?: string | null;
  fields: { name: string }[];
}

export interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
  uniqueFields: string[][];
  uniqueIndexes: { name: string | null; fields: string[] }[];
}

export interface DmmfEnum {
  name: string;
  dbName: string | null;
  values: { name: string; dbName: string | null }[];
}

export interface DmmfDatamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes?: DmmfIndex[];
}

// ---------------------------------------------------------------------------------------------
// Loading Prisma's schema wasm
// ---------------------------------------------------------------------------------------------

// Minimal WebAssembly typings: the project's `lib` has no DOM and @types/node only declares
// part of the WebAssembly namespace.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmTable {
  grow(delta: number): number;
  get(index: number): unknown;
  set(index: number, value: unknown): void;
}
interface WasmModuleImport {
  module: string;
  name: string;
  kind: string;
}
interface WasmApi {
  Module: { new (bytes: Uint8Array): object; imports(module: object): WasmModuleImport[] };
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface SchemaWasmExports {
  memory: WasmMemory;
  __wbindgen_externrefs: WasmTable;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_realloc(ptr: number, oldSize: number, newSize: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
  __externref_table_dealloc(index: number): void;
  __wbindgen_start(): void;
  get_dmmf(ptr: number, len: number): [number, number, number, number];
}

/** Absolute path of the schema wasm shipped in the installed `prisma` package. */
export function prismaSchemaWasmPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("prisma/package.json");
  return path.join(path.dirname(pkg), "build", "prisma_schema_build_bg.wasm");
}

let cached: SchemaWasmExports | undefined;

function loadSchemaWasm(): SchemaWasmExports {
  if (cached) return cached;
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });
  // the imports below need the instance's exports, which exist only once it is instantiated
  const ref: { exports?: SchemaWasmExports } = {};
  const live = (): SchemaWasmExports => {
    if (!ref.exports) throw new Error("prisma schema wasm called back before it was instantiated");
    return ref.exports;
  };
  const str = (ptr: number, len: number) => decoder.decode(new Uint8Array(live().memory.buffer).subarray(ptr >>> 0, (ptr >>> 0) + len));
  // Import names carry wasm-bindgen hashes: bind by prefix so a patch release of `prisma` that
  // only changes the hashes keeps working.
  const module = new Wasm.Module(readFileSync(prismaSchemaWasmPath()));
  const impl: Record<string, (...args: number[]) => unknown> = {
    __wbg_set_message: () => {},
    __wbg_Error: (p, l) => new Error(str(p as number, l as number)),
    __wbg___wbindgen_throw: (p, l) => {
      throw new Error(str(p as number, l as number));
    },
    __wbindgen_init_externref_table: () => {
      const table = live().__wbindgen_externrefs;
      const offset = table.grow(4);
      table.set(0, undefined);
      table.set(offset + 0, undefined);
      table.set(offset + 1, null);
      table.set(offset + 2, true);
      table.set(offset + 3, false);
    },
  };
  const imports: Record<string, Record<string, unknown>> = {};
  for (const imp of Wasm.Module.imports(module)) {
    const key = Object.keys(impl).find((k) => imp.name === k || imp.name.startsWith(`${k}_`));
    if (!key) throw new Error(`prisma schema wasm needs an unknown import ${imp.module}.${imp.name}`);
    (imports[imp.module] ??= {})[imp.name] = impl[key];
  }
  const instance = new Wasm.Instance(module, imports);
  const exports = instance.exports as unknown as SchemaWasmExports;
  ref.exports = exports;
  exports.__wbindgen_start();
  cached = exports;
  return exports;
}

/**
 * Parse and validate a Prisma schema with Prisma's own parser and return its DMMF datamodel.
 * Throws with Prisma's validation message when the schema is invalid.
 */
export function getDmmf(schema: string): DmmfDatamodel {
  const wasm = loadSchemaWasm();
  const input = new TextEncoder().encode(JSON.stringify({ prismaSchema: schema, noColor: true }));
  const ptr = wasm.__wbindgen_malloc(input.length, 1) >>> 0;
  new Uint8Array(wasm.memory.buffer).set(input, ptr);
  const [outPtr, outLen, errRef, isErr] = wasm.get_dmmf(ptr, input.length);
  if (isErr) {
    const err = wasm.__wbindgen_externrefs.get(errRef) as unknown;
    wasm.__externref_table_dealloc(errRef);
    throw err instanceof Error ? err : new Error(String(err));
  }
  try {
    const text = new TextDecoder().decode(new Uint8Array(wasm.memory.buffer).subarray(outPtr, outPtr + outLen));
    return (JSON.parse(text) as { datamodel: DmmfDatamodel }).datamodel;
  } finally {
    wasm.__wbindgen_free(outPtr, outLen, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// DMMF → expected PostgreSQL objects
// ---------------------------------------------------------------------------------------------

/** A column as PostgreSQL's catalog should describe it. */
export interface ExpectedColumn {
  /** Prisma field name. */
  field: string;
  column: string;
  /** Catalog type: `integer`, `character varying(12)`, `numeric(14,2)`, `timestamp(3) with time zone`, enum type name … */
  type: string;
  nullable: boolean;
  /** Column default as Postgres prints it (`pg_get_expr`), or null. */
  default: string | null;
}

export interface ExpectedForeignKey {
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
}

export interface ExpectedIndex {
  name: string;
  columns: string[];
  unique: boolean;
}

export interface ExpectedTable {
  model: string;
  table: string;
  columns: ExpectedColumn[];
  primaryKey: { name: string; columns: string[] };
  indexes: ExpectedIndex[];
  foreignKeys: ExpectedForeignKey[];
}

export interface ExpectedSchema {
  tables: ExpectedTable[];
  /** Enum type name → labels in order. */
  enums: Record<string, string[]>;
}

const SCALAR_DEFAULT_TYPE: Record<string, string> = {
  String: "text",
  Int: "integer",
  BigInt: "bigint",
  Float: "double precision",
  Decimal: "numeric(65,30)",
  Boolean: "boolean",
  DateTime: "timestamp(3) without time zone",
  Json: "jsonb",
  Bytes: "bytea",
};

function nativeToCatalog(native: string, args: string[]): string {
  const a = args.join(",");
  switch (native) {
    case "VarChar":
      return a ? `character varying(${a})` : "character varying";
    case "Char":
      return a ? `character(${a})` : "character(1)";
    case "Text":
      return "text";
    case "SmallInt":
      return "smallint";
    case "Integer":
      return "integer";
    case "BigInt":
      return "bigint";
    case "Decimal":
      return a ? `numeric(${a})` : "numeric";
    case "Money":
      return "money";
    case "Real":
      return "real";
    case "DoublePrecision":
      return "double precision";
    case "Date":
      return "date";
    case "Time":
      return `time(${a || "6"}) without time zone`;
    case "Timetz":
      return `time(${a || "6"}) with time zone`;
    case "Timestamp":
      return `timestamp(${a || "6"}) without time zone`;
    case "Timestamptz":
      return `timestamp(${a || "6"}) with time zone`;
    case "Boolean":
      return "boolean";
    case "Json":
      return "json";
    case "JsonB":
      return "jsonb";
    case "Uuid":
      return "uuid";
    case "ByteA":
      return "bytea";
    default:
      throw new Error(`native type @db.${native} is not handled by the schema-sync test`);
  }
}

function referentialAction(action: string | undefined, fallback: string): string {
  const a = action ?? fallback;
  const map: Record<string, string> = {
    Cascade: "CASCADE",
    Restrict: "RESTRICT",
    NoAction: "NO ACTION",
    SetNull: "SET NULL",
    SetDefault: "SET DEFAULT",
  };
  const out = map[a];
  if (!out) throw new Error(`unknown referential action ${a}`);
  return out;
}

/**
 * The PostgreSQL objects Prisma Migrate creates for `dmmf`, with Prisma's default names:
 * `<table>_pkey`, `<table>_<cols>_key` (unique), `<table>_<cols>_idx` (index),
 * `<table>_<cols>_fkey` (foreign key); default referential actions for a relation: ON DELETE
 * RESTRICT (SET NULL when the relation is optional), ON UPDATE CASCADE.
 */
export function expectedTables(dmmf: DmmfDatamodel): ExpectedSchema {
  const modelsByName = new Map(dmmf.models.map((m) => [m.name, m]));
  const enumsByName = new Map(dmmf.enums.map((e) => [e.name, e]));
  const tableOf = (m: DmmfModel) => m.dbName ?? m.name;
  const columnOf = (m: DmmfModel, fieldName: string) => {
    const f = m.fields.find((x) => x.name === fieldName);
    if (!f) throw new Error(`${m.name}.${fieldName} not found`);
    return f.dbName ?? f.name;
  };

  const tables: ExpectedTable[] = [];
  for (const model of dmmf.models) {
    const table = tableOf(model);
    const columns: ExpectedColumn[] = [];
    for (const f of model.fields) {
      if (f.kind === "object") continue;
      if (f.isList) throw new Error(`scalar lists are not handled (${model.name}.${f.name})`);
      const column = f.dbName ?? f.name;
      let type: string;
      if (f.kind === "enum") {
        const e = enumsByName.get(f.type);
        if (!e) throw new Error(`enum ${f.type} not found`);
        type = e.dbName ?? e.name;
      } else if (f.nativeType) {
        type = nativeToCatalog(f.nativeType[0], f.nativeType[1]);
      } else {
        const t = SCALAR_DEFAULT_TYPE[f.type];
        if (!t) throw new Error(`scalar type ${f.type} not handled`);
        type = t;
      }
      let def: string | null = null;
      if (f.hasDefaultValue && f.default !== undefined) {
        const d = f.default;
        if (typeof d === "object" && d !== null && "name" in d) {
          if (d.name === "autoincrement") def = `nextval('${table}_${column}_seq'::regclass)`;
          else if (d.name === "now") def = "CURRENT_TIMESTAMP";
          else throw new Error(`default function ${d.name}() is not handled`);
        } else if (typeof d === "number" || typeof d === "boolean") {
          def = String(d);
        } else if (typeof d === "string") {
          // pg_get_expr prints the cast with the bare type name, quoted only when it must be
          const cast = f.kind === "enum" && !/^[a-z_][a-z0-9_]*$/.test(type) ? `"${type}"` : type.replace(/\(.*?\)/, "");
          def = `'${d.replace(/'/g, "''")}'::${cast}`;
        }
      }
      columns.push({ field: f.name, column, type, nullable: !f.isRequired, default: def });
    }

    const pkFields = model.primaryKey?.fields ?? model.fields.filter((f) => f.isId).map((f) => f.name);
    const primaryKey = {
      name: model.primaryKey?.name ?? `${table}_pkey`,
      columns: pkFields.map((n) => columnOf(model, n)),
    };

    const indexes: ExpectedIndex[] = [];
    const modelIndexes = (dmmf.indexes ?? []).filter((i) => i.model === model.name);
    if (modelIndexes.length > 0) {
      for (const idx of modelIndexes) {
        if (idx.type === "id") continue;
        if (idx.type === "fulltext") throw new Error("fulltext indexes are not handled");
        const cols = idx.fields.map((x) => columnOf(model, x.name));
        const unique = idx.type === "unique";
        indexes.push({ name: idx.dbName ?? `${table}_${cols.join("_")}_${unique ? "key" : "idx"}`, columns: cols, unique });
      }
    } else {
      // Older DMMF without `indexes`: unique constraints only.
      for (const f of model.fields.filter((x) => x.isUnique)) {
        const col = f.dbName ?? f.name;
        indexes.push({ name: `${table}_${col}_key`, columns: [col], unique: true });
      }
      for (const u of model.uniqueIndexes) {
        const cols = u.fields.map((n) => columnOf(model, n));
        indexes.push({ name: `${table}_${cols.join("_")}_key`, columns: cols, unique: true });
      }
    }

    const foreignKeys: ExpectedForeignKey[] = [];
    for (const f of model.fields) {
      if (f.kind !== "object" || !f.relationFromFields || f.relationFromFields.length === 0) continue;
      const target = modelsByName.get(f.type);
      if (!target) throw new Error(`relation target ${f.type} not found`);
      const cols = f.relationFromFields.map((n) => columnOf(model, n));
      const optional = f.relationFromFields.some((n) => !model.fields.find((x) => x.name === n)?.isRequired);
      foreignKeys.push({
        name: `${table}_${cols.join("_")}_fkey`,
        columns: cols,
        refTable: tableOf(target),
        refColumns: (f.relationToFields ?? []).map((n) => columnOf(target, n)),
        onDelete: referentialAction(f.relationOnDelete, optional ? "SetNull" : "Restrict"),
        onUpdate: referentialAction(f.relationOnUpdate, "Cascade"),
      });
    }

    tables.push({ model: model.name, table, columns, primaryKey, indexes, foreignKeys });
  }

  const enums: Record<string, string[]> = {};
  for (const e of dmmf.enums) enums[e.dbName ?? e.name] = e.values.map((v) => v.dbName ?? v.name);
  return { tables, enums };
}
