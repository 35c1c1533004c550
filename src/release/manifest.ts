import { createRequire } from "node:module";
import { z } from "zod";

/** The file `export` and `sample` write beside a release's data, and `import` reads. */
export const MANIFEST_FILE = "release.json";
export const MANIFEST_FORMAT = "atomic-etl.release/1";

/** One table of a release as `import` loads it. */
export const manifestTableSchema = z.object({
  table: z.string().min(1),
  model: z.string().nullable().default(null),
  file: z.string().min(1),
  keys: z.enum(["auto", "fields", "columns"]).default("columns"),
  rows: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0).optional(),
});

/**
 * `release.json`: what `import` needs (tables, files, key style) and where the data came from:
 * the source database's name (never a URL or credentials), the snapshot (id, LSN, time), the
 * selection, the masking rules by name (never the secret), counts, sha256 and closure per FK.
 */
export const releaseManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  name: z.string().min(1),
  kind: z.enum(["export", "sample"]),
  createdAt: z.string(),
  tool: z.object({ name: z.string(), version: z.string() }),
  source: z
    .object({
      database: z.string(),
      /** The source's environment; null when it was named by `--from-url-env` only. */
      environment: z.string().nullable(),
      /** The variable the source URL was read from (its name, never its value). */
      urlVariable: z.string().nullable().optional(),
      serverVersion: z.string(),
      standby: z.boolean(),
      schema: z.string(),
    })
    .passthrough(),
  snapshot: z.object({ id: z.string().nullable(), lsn: z.string().nullable(), txidSnapshot: z.string(), time: z.string() }),
  plan: z.object({ mode: z.string(), workers: z.number().int(), why: z.array(z.string()) }),
  selection: z.record(z.string(), z.unknown()),
  masks: z.array(z.object({ column: z.string(), rule: z.string(), inheritedFrom: z.string().nullable() })),
  tables: z.array(manifestTableSchema.passthrough()).min(1),
  closure: z.array(z.record(z.string(), z.unknown())),
  durationMs: z.number(),
});
export type ReleaseManifest = z.output<typeof releaseManifestSchema>;

/** The package's own version, for the manifest. */
export function toolVersion(): { name: string; version: string } {
  // src/release and dist/release both sit two levels below package.json
  const pkg = createRequire(import.meta.url)("../../package.json") as { name: string; version: string };
  return { name: pkg.name, version: pkg.version };
}
