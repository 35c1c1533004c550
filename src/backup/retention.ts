import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { type BackupManifest, readManifest } from "./manifest.js";

export interface BackupEntry {
  manifest: BackupManifest;
  dumpPath: string;
  manifestPath: string;
}

/** Every backup in `dir` with a readable manifest, newest first. */
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
      out.push({ manifest, manifestPath, dumpPath: path.join(dir, manifest.dumpFile) });
    } catch {
      // not ours, or half-written: never touched by pruning
    }
  }
  return out.sort((a, b) => (a.manifest.createdAt < b.manifest.createdAt ? 1 : a.manifest.createdAt > b.manifest.createdAt ? -1 : b.manifest.id.localeCompare(a.manifest.id)));
}

/**
 * Keeps the newest `keep` backups of an environment and deletes older ones. Never deletes
 * `protectId` (the run in progress) nor the newest backup.
 */
export async function pruneBackups(dir: string, environment: string, keep: number, protectId?: string): Promise<string[]> {
  const mine = (await listBackups(dir)).filter((b) => b.manifest.environment === environment);
  const doomed = mine.slice(Math.max(1, keep)).filter((b) => b.manifest.id !== protectId);
  for (const b of doomed) {
    await rm(b.dumpPath, { force: true });
    await rm(b.manifestPath, { force: true });
  }
  return doomed.map((b) => b.manifest.id);
}
