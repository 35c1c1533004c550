import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { z } from "zod";

const columnSchema = z.strictObject({ name: z.string(), type: z.string() });

const tableSchema = z.strictObject({
  rows: z.number().int().min(0),
  hash: z.string(),
  /** Columns in table order with their SQL types: what a restore requires of the schema. */
  columns: z.array(columnSchema),
});

/** The JSON written beside every dump. It holds the database's name, never a password nor a connection URL. */
export const manifestSchema = z.strictObject({
  formatVersion: z.literal(1),
  id: z.string().min(1),
  createdAt: z.string(),
  environment: z.string(),
  release: z.string().nullable(),
  /** sha256 over the release's files (name + content), when the backup belongs to an import. */
  releaseHash: z.string().nullable(),
  runId: z.string(),
  database: z.string(),
  schema: z.string(),
  serverVersion: z.string(),
  pgDumpVersion: z.string(),
  mode: z.enum(["tables", "full"]),
  /** `gzip:6` or `zstd:3`. */
  compression: z.string(),
  dumpFile: z.string().min(1),
  sizeBytes: z.number().int().min(0),
  /** sha256 of the dump file: a truncated or altered dump is found without reading it with pg_restore. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  durationMs: z.number().min(0),
  /** Target tables with their row counts, fingerprints and columns. */
  tables: z.record(z.string(), tableSchema),
});

export type BackupManifest = z.infer<typeof manifestSchema>;
export type ManifestTable = z.infer<typeof tableSchema>;

/** `x.dump` → `x.manifest.json`. */
export const manifestPathOf = (dumpPath: string) => dumpPath.replace(/\.dump$/, ".manifest.json");

/**
 * Writes the manifest (mode 0600) through a temporary file and a rename, so a reader never
 * sees half of one.
 *
 * @example await writeManifest("backups/x.manifest.json", manifest)
 */
export async function writeManifest(path: string, m: BackupManifest): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(manifestSchema.parse(m), null, 2)}\n`, { mode: 0o600, flag: "wx" });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Reads and validates a manifest; throws on unreadable or malformed JSON. */
export async function readManifest(path: string): Promise<BackupManifest> {
  return manifestSchema.parse(JSON.parse(await readFile(path, "utf8")));
}
