import { open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { type DatabaseIdentity, databaseIdentitySchema } from "../db/database-identity.js";
import type { QualifiedName } from "../sql/quote.js";
import { syncDirectory, temporaryPathOf } from "./backup-files.js";

export { manifestPathOf } from "./backup-files.js";

const columnSchema = z.strictObject({ name: z.string(), type: z.string() });
const qualifiedSchema = z.strictObject({ schema: z.string(), name: z.string() });

const tableV1 = z.strictObject({
  rows: z.number().int().min(0),
  hash: z.string(),
  /** Columns in table order with their SQL types: what a restore requires of the schema. */
  columns: z.array(columnSchema),
});

const tableSchema = tableV1.extend({
  /**
   * A partitioned table's leaf partitions (any depth), whose TABLE DATA the dump holds; null for
   * a plain table. The fingerprint is the parent's, over every partition's rows.
   */
  partitions: z.array(qualifiedSchema).nullable(),
});

const otherTableSchema = tableSchema.extend({ schema: z.string(), name: z.string() });

/** What became of the run a backup was taken for. */
export const RUN_OUTCOMES = ["pending", "committed", "rolled back", "restored"] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

const runSchema = z.strictObject({
  /** `pending` from the backup until the runner records the end of the run; a run that never ended (killed) stays pending. */
  outcome: z.enum(RUN_OUTCOMES),
  decidedAt: z.string().nullable(),
  /**
   * The run's transaction id, recorded right before COMMIT is sent ({@link markCommitting}): a
   * pending backup without one belongs to a run that never sent COMMIT; with one, whether the run
   * committed is `pg_xact_status(txid)`.
   */
  txid: z.string().regex(/^\d+$/).nullable(),
});

const common = {
  id: z.string().min(1),
  createdAt: z.string(),
  environment: z.string(),
  release: z.string().nullable(),
  /** sha256 over the release's files (name + content), when the backup belongs to an import. */
  releaseHash: z.string().nullable(),
  runId: z.string(),
  /** The database's name (format 2: the same as identity.database). */
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
};

/** Format 1 (read only): no database identity, no run outcome, no partitions, targets only. */
const manifestV1Schema = z.strictObject({ formatVersion: z.literal(1), ...common, tables: z.record(z.string(), tableV1) });

/**
 * The JSON written beside every dump (format 2). It names the database by its identity, never
 * by a host, a password nor a connection URL.
 */
export const manifestSchema = z
  .strictObject({
    formatVersion: z.literal(2),
    ...common,
    identity: databaseIdentitySchema,
    run: runSchema,
    /** The run's target tables (names in `schema`): row counts, fingerprints, columns, partitions. A rollback is proven against these. */
    tables: z.record(z.string(), tableSchema),
    /** Mode `full`: every other table of the dump, in any schema, with the same facts; [] in mode `tables`. */
    otherTables: z.array(otherTableSchema),
  })
  .refine((m) => m.identity.database === m.database, { message: "identity.database differs from database" });

export type BackupManifest = z.infer<typeof manifestSchema>;
export type ManifestTable = z.infer<typeof tableSchema>;

/**
 * A manifest as read from disk: format 2 as written, or format 1 read as "identity unknown,
 * outcome unknown" (`identity` and `run` are null), its tables without partitions.
 */
export type StoredManifest = Omit<BackupManifest, "formatVersion" | "identity" | "run"> & {
  formatVersion: 1 | 2;
  identity: DatabaseIdentity | null;
  run: BackupManifest["run"] | null;
};

/** One table a backup can restore, with where it lives. */
export interface BackedUpTable extends QualifiedName {
  entry: ManifestTable;
  /** One of the run's targets (rather than another table of a full backup). */
  target: boolean;
}

/**
 * The TABLE DATA entries a dump holds for a table: its own, or its leaf partitions'.
 *
 * @example dataEntriesOf({ schema: "public", name: "teams", entry }) // => [{ schema: "public", name: "teams" }]
 */
export function dataEntriesOf(t: QualifiedName & { entry: Pick<ManifestTable, "partitions"> }): QualifiedName[] {
  return t.entry.partitions ?? [{ schema: t.schema, name: t.name }];
}

/**
 * The tables of a backup: its targets, then (mode full) every other table of the dump.
 *
 * @example backedUpTables(m).map((t) => `${t.schema}.${t.name}`) // => ["public.leagues", "public.teams", …]
 */
export function backedUpTables(m: StoredManifest, scope: "all" | "targets" = "all"): BackedUpTable[] {
  const targets = Object.entries(m.tables).map(([name, entry]) => ({ schema: m.schema, name, entry, target: true }));
  if (scope === "targets") return targets;
  return [...targets, ...m.otherTables.map(({ schema, name, ...entry }) => ({ schema, name, entry, target: false }))];
}

/**
 * Writes the manifest (mode 0600, fsynced) under a temporary name and renames it into place,
 * so a reader never sees half of one.
 *
 * @example await writeManifest("backups/x.manifest.json", manifest)
 */
export async function writeManifest(file: string, m: BackupManifest): Promise<void> {
  const tmp = await writeManifestTemporary(file, m);
  await publishTemporary(tmp, file);
}

/** Writes the manifest under this process's temporary name for `file`; returns that name. */
export async function writeManifestTemporary(file: string, m: BackupManifest): Promise<string> {
  const tmp = temporaryPathOf(file);
  const text = `${JSON.stringify(manifestSchema.parse(m), null, 2)}\n`;
  try {
    const fh = await open(tmp, "w", 0o600);
    try {
      await fh.chmod(0o600);
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return tmp;
}

/** Renames a finished temporary file into place and makes the rename durable. */
export async function publishTemporary(tmp: string, file: string): Promise<void> {
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDirectory(path.dirname(file));
}

/** Reads and validates a manifest of either format; throws on unreadable or malformed JSON. */
export async function readManifest(file: string): Promise<StoredManifest> {
  const raw: unknown = JSON.parse(await readFile(file, "utf8"));
  if ((raw as { formatVersion?: unknown } | null)?.formatVersion === 1) {
    const v1 = manifestV1Schema.parse(raw);
    const tables = Object.fromEntries(Object.entries(v1.tables).map(([n, t]) => [n, { ...t, partitions: null }]));
    return { ...v1, identity: null, run: null, tables, otherTables: [] };
  }
  return manifestSchema.parse(raw);
}

/**
 * Records what became of the backup's run, atomically (a temporary file and a rename). The
 * runner calls it once the run has ended: `committed` after a (confirmed) COMMIT, `rolled back`
 * after a rollback proven to have left the targets as they were, `restored` after the backup
 * was restored over a failed run. A run that never ends (killed) leaves its backup `pending`.
 *
 * @example await markBackupOutcome("backups/x.manifest.json", "committed")
 */
export async function markBackupOutcome(manifestPath: string, outcome: RunOutcome): Promise<BackupManifest> {
  return rewriteRun(manifestPath, (run) => ({ ...run, outcome, decidedAt: new Date().toISOString() }));
}

/**
 * Records, atomically, the id of the run's transaction right before the runner sends COMMIT
 * (the outcome stays `pending` until {@link markBackupOutcome}). If the run then dies, `restore
 * latest` can tell from `pg_xact_status` whether its COMMIT landed; a pending backup without a
 * txid belongs to a run that never sent COMMIT.
 *
 * @example await markCommitting("backups/x.manifest.json", "7421")
 */
export async function markCommitting(manifestPath: string, txid: string): Promise<BackupManifest> {
  return rewriteRun(manifestPath, (run) => ({ ...run, txid }));
}

async function rewriteRun(manifestPath: string, change: (run: BackupManifest["run"]) => BackupManifest["run"]): Promise<BackupManifest> {
  const m = await readManifest(manifestPath);
  if (m.formatVersion !== 2 || !m.identity || !m.run) {
    throw new Error(`${path.basename(manifestPath)} is a format-1 manifest: it has no run outcome to record`);
  }
  const next: BackupManifest = { ...m, formatVersion: 2, identity: m.identity, run: change(m.run) };
  await writeManifest(manifestPath, next);
  return next;
}
