import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { type BackupScope, inScope, isCommitted } from "./backup-scope.js";
import { MANIFEST_NAME } from "./backup-files.js";
import { readManifest, type StoredManifest } from "./manifest.js";
import { dumpPresent, isGoodBackup } from "./verify.js";

export interface BackupEntry {
  manifest: StoredManifest;
  dumpPath: string;
  manifestPath: string;
}

/**
 * Every backup in `dir` with a valid manifest (format 1 or 2), newest first (by creation time,
 * then id). Files without a valid manifest are not listed, and so never pruned; temporary files
 * of backups being written are never listed.
 *
 * @example const [latest] = (await listBackups("backups")).filter((b) => b.manifest.environment === "production")
 */
export async function listBackups(dir: string): Promise<BackupEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: BackupEntry[] = [];
  for (const n of names.filter((x) => MANIFEST_NAME.test(x))) {
    const manifestPath = path.join(dir, n);
    try {
      const manifest = await readManifest(manifestPath);
      out.push({ manifest, manifestPath, dumpPath: path.join(dir, path.basename(manifest.dumpFile)) });
    } catch {
      // not ours, or from another format: left alone
    }
  }
  return out.sort((a, b) => b.manifest.createdAt.localeCompare(a.manifest.createdAt) || b.manifest.id.localeCompare(a.manifest.id));
}

/** The backups of one scope (environment, database identity, schema), newest first. */
export async function backupsOf(dir: string, scope: BackupScope): Promise<BackupEntry[]> {
  return (await listBackups(dir)).filter((b) => inScope(b.manifest, scope));
}

/**
 * Retention for the database, schema and environment of backup `protectId` (the run's own,
 * which is never deleted). Backups of other databases, other schemas, other environments and of
 * format 1 (identity unknown) are never touched.
 *
 * - Only committed backups whose dump is present with its manifest's size count toward `keep`
 *   (every manifest is written only after its dump was verified); the newest `keep` of them are
 *   kept, older ones deleted.
 * - Pending, rolled-back and restored backups, and committed ones whose dump is missing or
 *   has another size, never count; they are deleted once older than the newest kept one (a
 *   newer pending one may belong to a run still going on).
 * - The newest backup that still verifies in full (sha256, pg_restore) always survives,
 *   however many newer ones are broken.
 *
 * Returns the ids deleted.
 *
 * @example await pruneBackups("backups", "production", 30, manifest.id)
 */
export async function pruneBackups(dir: string, environment: string, keep: number, protectId: string): Promise<string[]> {
  const all = await listBackups(dir);
  const own = all.find((b) => b.manifest.id === protectId)?.manifest;
  const identity = own?.identity;
  if (!own || !identity || own.environment !== environment) return [];
  const group = all.filter((b) => inScope(b.manifest, { environment, identity, schema: own.schema }));
  const countable: BackupEntry[] = [];
  for (const b of group) if (isCommitted(b.manifest) && (await dumpPresent(b)) === "ok") countable.push(b);
  const kept = new Set(countable.slice(0, Math.max(1, keep)));
  const newestKept = countable[0] ? group.indexOf(countable[0]) : Infinity;
  const doomed = group.filter((b, i) => i > newestKept && !kept.has(b) && b.manifest.id !== protectId);
  if (!doomed.length) return [];
  let newestGood: BackupEntry | undefined;
  for (const b of countable) {
    if (await isGoodBackup(b)) {
      newestGood = b;
      break;
    }
  }
  const deleted: string[] = [];
  for (const b of doomed.filter((x) => x !== newestGood)) {
    await rm(b.dumpPath, { force: true });
    await rm(b.manifestPath, { force: true });
    deleted.push(b.manifest.id);
  }
  return deleted;
}
