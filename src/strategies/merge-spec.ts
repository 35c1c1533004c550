import type { MergeOptions } from "../config/schema.js";
import { EtlError } from "../errors.js";
import type { ColumnInfo, TableInfo } from "../sql/catalog.js";
import type { MergeSpec, OrderTerm } from "../sql/merge-statements.js";
import type { QualifiedName } from "../sql/quote.js";
import type { TableMapping } from "../validation/table-mapping.js";

/** Types without a default equality operator: compared by their text. */
const NO_EQUALITY = new Set(["json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle"]);

/** What {@link resolveMergeSpec} adds to the statements' spec: checks of the staged rows. */
export interface ResolvedMerge {
  spec: MergeSpec;
  /** Columns the TEMP staging table must leave NULL when a record omits them. */
  relax: string[];
  /** Key columns that must not be NULL in a staged row (omitted, or NULL without `nullsEqual`). */
  nonNullKey: string[];
}

const fresh = (base: string, taken: ReadonlySet<string>) => {
  let name = `atomic_etl_${base}`;
  for (let i = 2; taken.has(name); i++) name = `atomic_etl_${base}${i}`;
  return name;
};

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
  const refuse = (what: string, message: string, next?: string): never => {
    throw new EtlError("CONFIG_INVALID", `merge.${what} of ${info.name}: ${message}`, { step: "config", table: info.name, next });
  };
  const byName = new Map(info.columns.map((c) => [c.name, c]));
  const column = (what: string, name: string): ColumnInfo => {
    const viaField = mapping.fieldToColumn.get(name);
    if (viaField !== undefined && viaField !== name && byName.has(name)) {
      refuse(what, `"${name}" is both a Prisma field (column ${viaField}) and another column`, "name the column by its other spelling");
    }
    const c = byName.get(viaField ?? name);
    if (!c) {
      const known = mapping.fieldToColumn.size ? [...mapping.fieldToColumn.keys()] : [...byName.keys()];
      return refuse(
        what,
        `unknown name "${name}": not a ${mapping.model ? `field of model ${mapping.model} nor a ` : ""}column (known: ${known.join(", ")})`,
      );
    }
    if (c.isGenerated) refuse(what, `"${name}" is a generated column; the database computes it`);
    return c;
  };
  const names = (v: string | string[] | undefined) => (v === undefined ? undefined : typeof v === "string" ? [v] : v);

  const keyNames = names(options?.key);
  const key = keyNames ? keyNames.map((n) => column("key", n).name) : info.primaryKey;
  if (key.length === 0) refuse("key", "the table has no primary key", "give merge.key: the column(s) that identify a row");
  const same = (a: readonly string[]) => a.length === key.length && key.every((k) => a.includes(k));
  if (new Set(key).size !== key.length) refuse("key", `a column appears twice in (${key.join(", ")})`);
  if (!info.uniqueKeys.some((u) => same(u.columns))) {
    const choices = info.uniqueKeys.map((u) => `(${u.columns.join(", ")})`).join(", ") || "none";
    refuse(
      "key",
      `no unique index on (${key.join(", ")}); an upsert needs one (unique keys: ${choices})`,
      `create one (CREATE UNIQUE INDEX ON ${info.name} (${key.join(", ")})) or use a unique key`,
    );
  }

  const order: OrderTerm[] = (names(options?.order) ?? []).map((term) => {
    const [name = "", dir = "asc"] = term.trim().split(/\s+/);
    return { column: column("order", name).name, desc: dir.toLowerCase() === "desc" };
  });
  if (new Set(order.map((o) => o.column)).size !== order.length) refuse("order", "a column appears twice");

  const insert = info.columns.filter((c) => !c.isGenerated).map((c) => c.name);
  const assigned = (c: ColumnInfo) => c.isIdentity || c.sequence !== null;
  const updateNames = options?.update;
  const update = updateNames
    ? updateNames.map((n) => column("update", n).name)
    : info.columns.filter((c) => !c.isGenerated && !assigned(c) && !key.includes(c.name)).map((c) => c.name);
  const inKey = update.find((c) => key.includes(c));
  if (inKey !== undefined) refuse("update", `${inKey} is part of the key, which a match never changes`);

  const deleteMissing = options?.deleteMissing ?? false;
  const deleteScope =
    deleteMissing === false
      ? null
      : Object.fromEntries(
          Object.entries(deleteMissing === true ? {} : deleteMissing.scope).map(([n, v]) => [column("deleteMissing.scope", n).name, v]),
        );

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
      helpers: { rank: fresh("rank", taken), tied: fresh("tied", taken) },
    },
    relax,
    nonNullKey: key.filter((k) => relax.includes(k) || (!nullsEqual && nullable.includes(k))),
  };
}
