import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { type BackupManifest, readManifest } from "./manifest.js";
import { isGoodBackup } from "./verify.js";

export interface BackupEntry {
  manifest: BackupManifest;
  dumpPath: string;
  manifestPath: string;
}

/**
 * Every backup in `dir` with a valid manifest, newest first (by creation time, then id).
 * Files without a valid manifest are not listed, and so never pruned.
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
  for (const n of names.filter((x) => x.endsWith(".manifest.json"))) {
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

/**
 * Keeps the newest `keep` backups of an environment and deletes the older ones, except
 * `protectId` (the run in progress) and the newest backup that still verifies (dump present,
 * sha256 as in its manifest, readable by pg_restore): however many newer ones are broken,
 * one good backup always survives. Returns the ids deleted.
 *
 * @example await pruneBackups("backups", "production", 30, manifest.id)
 */
export async function pruneBackups(dir: string, environment: string, keep: number, protectId?: string): Promise<string[]> {
  const mine = (await listBackups(dir)).filter((b) => b.manifest.environment === environment);
  const doomed = mine.slice(Math.max(1, keep)).filter((b) => b.manifest.id !== protectId);
  if (!doomed.length) return [];
  let newestGood: string | undefined;
  for (const b of mine) {
    if (await isGoodBackup(b)) {
      newestGood = b.manifest.id;
      break;
    }
  }
  const deleted: string[] = [];
  for (const b of doomed.filter((x) => x.manifest.id !== newestGood)) {
    await rm(b.dumpPath, { force: true });
    await rm(b.manifestPath, { force: true });
    deleted.push(b.manifest.id);
  }
  return deleted;
}
