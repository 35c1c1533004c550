import type { MergeOptions } from "../config/schema.js";
import { EtlError } from "../errors.js";
import type { ColumnInfo, TableInfo } from "../sql/catalog.js";
import type { MergeSpec, OrderTerm } from "../sql/merge.js";
import type { QualifiedName } from "../sql/quote.js";
import type { TableMapping } from "../validation/table-mapping.js";

/** Types without a default equality operator: compared by their text. */
export const NO_EQUALITY = new Set(["json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle"]);

/** What {@link resolveMergeSpec} adds to the statements' spec: checks of the staged rows. */
export interface ResolvedMerge {
  spec: MergeSpec;
  /** Columns written on a match unless the release never mentions them (`update` not given). */
  narrowable: boolean;
  /** Columns the TEMP staging table must leave NULL when a record omits them. */
  relax: string[];
  /** Key columns that must not be NULL in a staged row (omitted, or NULL without `nullsEqual`). */
  nonNullKey: string[];
}

/** `atomic_etl_<base>`, numbered until no name in `taken` uses it (helper columns and aliases). */
export const freshName = (base: string, taken: ReadonlySet<string>) => {
  let name = `atomic_etl_${base}`;
  for (let i = 2; taken.has(name); i++) name = `atomic_etl_${base}${i}`;
  return name;
};

/** Names in merge options (Prisma fields or columns) resolved to columns; every refusal names the option. */
class OptionNames {
  private readonly byName: Map<string, ColumnInfo>;

  constructor(
    private readonly info: TableInfo,
    private readonly mapping: TableMapping,
  ) {
    this.byName = new Map(info.columns.map((c) => [c.name, c]));
  }

  refuse(what: string, message: string, next?: string): never {
    throw new EtlError("CONFIG_INVALID", `merge.${what} of ${this.info.name}: ${message}`, { step: "config", table: this.info.name, next });
  }

  column(what: string, name: string): ColumnInfo {
    const viaField = this.mapping.fieldToColumn.get(name);
    if (viaField !== undefined && viaField !== name && this.byName.has(name)) {
      this.refuse(
        what,
        `"${name}" is both a Prisma field (column ${viaField}) and another column`,
        "name the column by its other spelling",
      );
    }
    const c = this.byName.get(viaField ?? name);
    if (!c) {
      const known = this.mapping.fieldToColumn.size ? [...this.mapping.fieldToColumn.keys()] : [...this.byName.keys()];
      const of = this.mapping.model ? `field of model ${this.mapping.model} nor a ` : "";
      return this.refuse(what, `unknown name "${name}": not a ${of}column (known: ${known.join(", ")})`);
    }
    if (c.isGenerated) this.refuse(what, `"${name}" is a generated column; the database computes it`);
    return c;
  }
}

const list = (v: string | string[] | undefined) => (v === undefined ? undefined : typeof v === "string" ? [v] : v);

/** The idempotency key: the given names or the primary key, matched by a unique index. */
function resolveKey(n: OptionNames, info: TableInfo, options: MergeOptions | undefined): string[] {
  const keyNames = list(options?.key);
  const key = keyNames ? keyNames.map((k) => n.column("key", k).name) : info.primaryKey;
  if (key.length === 0) n.refuse("key", "the table has no primary key", "give merge.key: the column(s) that identify a row");
  if (new Set(key).size !== key.length) n.refuse("key", `a column appears twice in (${key.join(", ")})`);
  const same = (a: readonly string[]) => a.length === key.length && key.every((k) => a.includes(k));
  if (!info.uniqueKeys.some((u) => same(u.columns))) {
    const choices = info.uniqueKeys.map((u) => `(${u.columns.join(", ")})`).join(", ") || "none";
    n.refuse(
      "key",
      `no unique index on (${key.join(", ")}); an upsert needs one (unique keys: ${choices})`,
      `create one (CREATE UNIQUE INDEX ON ${info.name} (${key.join(", ")})) or use a unique key`,
    );
  }
  return key;
}

function resolveOrder(n: OptionNames, options: MergeOptions | undefined): OrderTerm[] {
  const order = (list(options?.order) ?? []).map((term) => {
    const [name = "", dir = "asc"] = term.trim().split(/\s+/);
    return { column: n.column("order", name).name, desc: dir.toLowerCase() === "desc" };
  });
  if (new Set(order.map((o) => o.column)).size !== order.length) n.refuse("order", "a column appears twice");
  return order;
}

/**
 * Columns written on a match: the given ones, or every column the database does not assign
 * itself, nor Prisma's client on create (an id from `@default(cuid())` … that a record left
 * out is a new row's, never a matched row's new id; `@updatedAt` is written, as Prisma does).
 */
function resolveUpdate(
  n: OptionNames,
  info: TableInfo,
  key: readonly string[],
  options: MergeOptions | undefined,
  mapping: TableMapping,
): string[] {
  const created = (c: ColumnInfo) => {
    const d = mapping.clientDefaults?.get(c.name);
    return d !== undefined && d.kind !== "updatedAt";
  };
  const assigned = (c: ColumnInfo) => c.isIdentity || c.sequence !== null || created(c);
  const triggers = new Set((options?.ownedByTrigger ?? []).map((c) => n.column("ownedByTrigger", c).name));
  const update = (
    options?.update
      ? options.update.map((u) => n.column("update", u).name)
      : info.columns.filter((c) => !c.isGenerated && !assigned(c) && !key.includes(c.name)).map((c) => c.name)
  ).filter((c) => !triggers.has(c));
  const inKey = update.find((c) => key.includes(c));
  if (inKey !== undefined) n.refuse("update", `${inKey} is part of the key, which a match never changes`);
  return update;
}

function resolveDeleteScope(n: OptionNames, options: MergeOptions | undefined): MergeSpec["deleteScope"] {
  const deleteMissing = options?.deleteMissing ?? false;
  if (deleteMissing === false) return null;
  const scope = deleteMissing === true ? {} : deleteMissing.scope;
  return Object.fromEntries(Object.entries(scope).map(([c, v]) => [n.column("deleteMissing.scope", c).name, v]));
}

/**
 * Resolves one table's `merge` options against the catalog. Names may be Prisma field
 * names or column names; unknown names, a key without a unique index, generated columns
 * and other contradictions are refused with CONFIG_INVALID before anything is written.
 *
 * @example resolveMergeSpec(players, { key: "id", order: "updatedAt desc" }, mapping, relations)
 */
export function resolveMergeSpec(
  info: TableInfo,
  options: MergeOptions | undefined,
  mapping: TableMapping,
  relations: { stage: QualifiedName; dedup: QualifiedName; changes: QualifiedName },
): ResolvedMerge {
  const n = new OptionNames(info, mapping);
  const key = resolveKey(n, info, options);
  const order = resolveOrder(n, options);
  const update = resolveUpdate(n, info, key, options, mapping);
  const deleteScope = resolveDeleteScope(n, options);
  const insert = info.columns.filter((c) => !c.isGenerated).map((c) => c.name);
  const byName = new Map(info.columns.map((c) => [c.name, c]));
  // NOT NULL columns with a default: a record may omit them, and NULL in staging says it did
  const relax = info.columns.filter((c) => !c.isGenerated && !c.nullable && c.hasDefault).map((c) => c.name);
  const nullsEqual = options?.nullsEqual ?? false;
  const nullable = key.filter((k) => byName.get(k)?.nullable);
  const taken = new Set(info.columns.map((c) => c.name));
  return {
    spec: {
      target: { schema: info.schema, name: info.name },
      ...relations,
      key,
      nullEqualKey: nullsEqual ? nullable : [],
      order,
      update,
      insert,
      omittable: relax.filter((c) => !key.includes(c)),
      asText: insert.filter((c) => NO_EQUALITY.has(byName.get(c)?.type ?? "")),
      onlyIfNewer: options?.onlyIfNewer ?? false,
      overriding: info.columns.some((c) => c.isIdentity && !c.isGenerated),
      deleteScope,
      helpers: { rank: freshName("rank", taken), tied: freshName("tied", taken), isNew: freshName("is_new", taken) },
      partitioned: info.partitioned,
    },
    narrowable: options?.update === undefined,
    relax,
    nonNullKey: key.filter((k) => relax.includes(k) || (!nullsEqual && nullable.includes(k))),
  };
}
