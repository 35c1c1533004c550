import { EtlError } from "../errors.js";
import type { TableInfo } from "../sql/catalog.js";
import { type QualifiedName, qualified } from "../sql/quote.js";
import type { ManifestTable } from "./manifest.js";

/** A backed-up table next to what the database holds now. */
export interface TableToCheck {
  /** How messages name it (`players`, or `audit.log` outside the backup's schema). */
  label: string;
  entry: ManifestTable;
  /** The table now; undefined when it is gone. */
  now: TableInfo | undefined;
  /** Its leaf partitions now; null when it is not partitioned. */
  partitionsNow: QualifiedName[] | null;
}

/**
 * What keeps a backup from being restored into the database as it is now: a table that is
 * gone, columns that differ (name, order or type) from the ones the backup was taken with, or
 * a partition the backup holds rows for that is no longer one of the table's partitions. New
 * partitions are fine: they are emptied with their parent. Empty when compatible.
 *
 * @example schemaDifferences([{ label: "players", entry, now, partitionsNow: null }]) // => ["players: now has column nickname (text), the backup has not"]
 */
export function schemaDifferences(tables: readonly TableToCheck[]): string[] {
  const out: string[] = [];
  for (const { label: name, entry: t, now: info, partitionsNow } of tables) {
    const now = info?.columns.map((c) => ({ name: c.name, type: c.formatted }));
    if (!now) {
      out.push(`${name}: no longer exists`);
      continue;
    }
    const was = new Map(t.columns.map((c) => [c.name, c.type]));
    const is = new Map(now.map((c) => [c.name, c.type]));
    for (const c of now) if (!was.has(c.name)) out.push(`${name}: now has column ${c.name} (${c.type}), the backup has not`);
    for (const c of t.columns) if (!is.has(c.name)) out.push(`${name}: column ${c.name} (${c.type}) of the backup no longer exists`);
    for (const c of now) {
      const before = was.get(c.name);
      if (before !== undefined && before !== c.type) out.push(`${name}: column ${c.name} is now ${c.type}, was ${before}`);
    }
    const order = (cols: { name: string }[]) =>
      cols
        .filter((c) => was.has(c.name) && is.has(c.name))
        .map((c) => c.name)
        .join(",");
    if (order(now) !== order(t.columns)) out.push(`${name}: columns are in a different order (now ${now.map((c) => c.name).join(", ")})`);
    out.push(...partitionDifferences(name, t.partitions, partitionsNow));
  }
  return out;
}

function partitionDifferences(name: string, was: QualifiedName[] | null, now: QualifiedName[] | null): string[] {
  if (was === null && now === null) return [];
  if (was === null) return [`${name}: is now partitioned, the backup's table was not`];
  if (now === null) return [`${name}: is no longer partitioned`];
  const current = new Set(now.map(qualified));
  return was
    .filter((p) => !current.has(qualified(p)))
    .map((p) => `${name}: partition ${p.schema}.${p.name}, which holds rows in the backup, is no longer one of its partitions`);
}

/** Throws RESTORE_SCHEMA_MISMATCH, listing every difference, unless the schema is compatible. */
export function assertSchemaCompatible(backupId: string, tables: readonly TableToCheck[]): void {
  const problems = schemaDifferences(tables);
  if (problems.length) {
    throw new EtlError(
      "RESTORE_SCHEMA_MISMATCH",
      `the schema changed since backup ${backupId}; nothing was restored:\n  ${problems.join("\n  ")}`,
      {
        step: "restore",
        data: "untouched",
        next: "migrate the database back to the backup's schema, or restore by hand with pg_restore",
        meta: { problems },
      },
    );
  }
}
