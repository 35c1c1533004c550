import { readFile, writeFile } from "node:fs/promises";
import type { Fingerprint } from "../db/fingerprint.js";

/** The JSON written beside every dump. It never holds a password or a connection URL. */
export interface BackupManifest {
  formatVersion: 1;
  id: string;
  createdAt: string;
  environment: string;
  release: string | null;
  /** sha256 over the release's files (name + content), when the backup belongs to an import. */
  releaseHash: string | null;
  runId: string;
  database: string;
  schema: string;
  serverVersion: string;
  pgDumpVersion: string;
  mode: "tables" | "full";
  dumpFile: string;
  sizeBytes: number;
  durationMs: number;
  tables: Record<string, Fingerprint & { columns: string[] }>;
}

export const manifestPathOf = (dumpPath: string) => dumpPath.replace(/\.dump$/, ".manifest.json");

export async function writeManifest(path: string, m: BackupManifest): Promise<void> {
  await writeFile(path, `${JSON.stringify(m, null, 2)}\n`, { mode: 0o600 });
}

export async function readManifest(path: string): Promise<BackupManifest> {
  return JSON.parse(await readFile(path, "utf8")) as BackupManifest;
}
