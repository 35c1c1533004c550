import { EtlError } from "../errors.js";
import type { TableInfo } from "../sql/catalog.js";
import type { BackupManifest } from "./manifest.js";

/**
 * What keeps a backup from being restored into the database as it is now: a table that is
 * gone, or columns that differ (name, order or type) from the ones the backup was taken
 * with. Empty when compatible.
 *
 * @example schemaDifferences(manifest, catalog) // => ["players: now has column nickname (text), the backup has not"]
 */
export function schemaDifferences(manifest: BackupManifest, catalog: ReadonlyMap<string, TableInfo>): string[] {
  const out: string[] = [];
  for (const [name, t] of Object.entries(manifest.tables)) {
    const now = catalog.get(name)?.columns.map((c) => ({ name: c.name, type: c.formatted }));
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
  }
  return out;
}

/** Throws RESTORE_SCHEMA_MISMATCH, listing every difference, unless the schema is compatible. */
export function assertSchemaCompatible(manifest: BackupManifest, catalog: ReadonlyMap<string, TableInfo>): void {
  const problems = schemaDifferences(manifest, catalog);
  if (problems.length) {
    throw new EtlError(
      "RESTORE_SCHEMA_MISMATCH",
      `the schema changed since backup ${manifest.id}; nothing was restored:\n  ${problems.join("\n  ")}`,
      {
        step: "restore",
        data: "untouched",
        next: "migrate the database back to the backup's schema, or restore by hand with pg_restore",
        meta: { problems },
      },
    );
  }
}
