import { readCatalog } from "../db/catalog.js";
import { pgErrorInfo } from "../db/pg-errors.js";
import { query } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { type RefusalPlace, RecordRefusal } from "../validation/record-refusal.js";
import type { ForeignKeyInfo, TableInfo } from "../sql/catalog.js";
import { type MergeSpec, referencingRows } from "../sql/merge.js";
import type { StrategyContext } from "./strategy.js";

/** The merge strategy's refusals, each naming the rows behind it. */

type Row = Record<string, unknown>;

/** A value as people read it; never a bigint or Decimal object in a message or a report. */
function shown(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "object" && !("toFixed" in v)) return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
  return String(v);
}
const describe = (r: Row, columns: readonly string[]) => columns.map((c) => `${c}=${shown(r[c])}`).join(", ");

/** `Key (team_id, season)=(9, 2026) is not present …` → the columns and their values as Postgres printed them. */
function keyOfDetail(detail: string | undefined): { columns: string[]; values: string[] } | null {
  const m = /^Key \((.+?)\)=\((.*)\) (?:is not present|already exists)/.exec(detail ?? "");
  if (!m) return null;
  const columns = (m[1] as string).split(", ").map((c) => c.replace(/^"(.*)"$/, "$1"));
  const values = columns.length === 1 ? [m[2] as string] : (m[2] as string).split(", ");
  return values.length === columns.length ? { columns, values } : null;
}

/**
 * Unique and foreign-key failures of a write, with Postgres' own detail ("Key (team_id)=(9)
 * is not present …"); the record behind the key is found in the file after the rollback.
 */
export async function guarded<T>(table: string, matchOn: readonly string[], write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    const info = pgErrorInfo(e);
    if (info.sqlstate !== "23503" && info.sqlstate !== "23505") throw e;
    const meta = { sqlstate: info.sqlstate, constraint: info.constraint, detail: info.detail };
    const key = keyOfDetail(info.detail);
    const fk = info.sqlstate === "23503";
    const parent = /is not present in table "([^"]+)"/.exec(info.detail ?? "")?.[1];
    const details = {
      step: "apply" as const,
      table,
      cause: e,
      meta,
      next: fk
        ? "add the missing parent rows to the release (or to the database) and run again"
        : "another unique column repeats a value of a different key, or another session inserted the same key meanwhile: fix the release, or run again",
    };
    const what = `merging ${table}: ${info.message}${info.detail ? ` (${info.detail})` : ""}`;
    const say = (p: RefusalPlace) => {
      if (!p.value) return what;
      if (fk)
        return `${p.at} has ${p.field} = ${p.value}, which is not in ${p.parent ?? parent ?? "its parent table"} (${info.constraint ?? "foreign key"})`;
      return p.earlier === undefined
        ? `${p.at} has ${p.field} = ${p.value}, which a row of ${table} already holds (${info.constraint ?? "unique key"})`
        : `${p.at} repeats ${p.field} = ${p.value} of record #${p.earlier} under another merge key (${info.constraint ?? "unique key"})`;
    };
    // a repeated value names its second record; a value that only clashes with a stored row, its only one
    const refused = {
      table,
      columns: key?.columns ?? [],
      values: key?.values ?? null,
      constraint: info.constraint,
      repeat: !fk,
      matchOn,
      say,
    };
    throw new RecordRefusal(fk ? "FK_VIOLATION" : "DUPLICATE_KEY", refused, details);
  }
}

export function tieError(t: TableInfo, spec: MergeSpec, ties: Row[]): EtlError {
  const columns = [...spec.key, ...spec.order.map((o) => o.column).filter((c) => !spec.key.includes(c))];
  const examples = ties.map((r) => `(${describe(r, columns)})`).join("; ");
  const order = spec.order.map((o) => o.column).join(", ");
  const why = spec.order.length
    ? `records with the same key and the same ${order} but different content`
    : "different records with the same key and no merge.order to pick the latest";
  const first = ties[0] as Row;
  const say = (p: RefusalPlace) =>
    p.earlier === undefined
      ? `${t.name}: ${why}, so none of them can be chosen: ${examples}`
      : `${p.at} has the same ${p.field} = ${p.value} as record #${p.earlier} but different content${spec.order.length ? "" : ", and no merge.order picks the latest"}, so neither can be chosen`;
  return new RecordRefusal(
    "DUPLICATE_KEY",
    { table: t.name, columns, values: columns.map((c) => first[c]), repeat: true, say },
    {
      step: "validate",
      meta: { ties: ties.map((r) => Object.fromEntries(columns.map((c) => [c, shown(r[c])]))) },
      next: spec.order.length
        ? "fix the source, or add a column to merge.order that tells the records apart"
        : 'set merge.order (e.g. "updatedAt desc"), or remove the duplicates from the source',
    },
  );
}

/**
 * `deleteMissing` on rows still referenced through FKs that do not cascade fails here,
 * before the DELETE, naming the referencing rows of every such FK.
 */
export async function refuseReferencedDeletes(
  ctx: StrategyContext,
  t: TableInfo,
  spec: MergeSpec,
  consider: (fk: ForeignKeyInfo) => boolean = () => true,
): Promise<void> {
  const found: { fk: ForeignKeyInfo; show: string[]; rows: Row[] }[] = [];
  for (const fk of t.referencedBy.filter((x) => (x.onDelete === "a" || x.onDelete === "r") && consider(x))) {
    const inRelease = ctx.tables.find((p) => p.info.schema === fk.table.schema && p.name === fk.table.name)?.info;
    const child = inRelease ?? (await readCatalog(ctx.tx, fk.table.schema, [fk.table.name])).get(fk.table.name);
    const show = [...new Set([...(child?.primaryKey ?? []), ...fk.columns])];
    const rows = await query<Row>(ctx.tx, referencingRows(spec, fk, show));
    if (rows.length) found.push({ fk, show, rows });
  }
  if (found.length === 0) return;
  const where = found.map(
    ({ fk, show, rows }) =>
      `${rows.map((r) => `${fk.table.name}(${describe(r, show)})`).join(", ")} through ${fk.name} (ON DELETE ${fk.onDelete === "r" ? "RESTRICT" : "NO ACTION"})`,
  );
  const tables = [...new Set(found.map((f) => f.fk.table.name))].join(", ");
  throw new EtlError("FK_VIOLATION", `deleteMissing would delete rows of ${t.name} that are still referenced: ${where.join("; ")}`, {
    step: "validate",
    table: t.name,
    meta: {
      referencing: found.map(({ fk, show, rows }) => ({
        constraint: fk.name,
        table: fk.table.name,
        rows: rows.map((r) => Object.fromEntries(show.map((c) => [c, shown(r[c])]))),
      })),
    },
    next: `keep those ${t.name} rows in the release, delete or re-point the ${tables} rows first, or declare the FK ON DELETE CASCADE`,
  });
}
