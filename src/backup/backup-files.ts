import { open } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/**
 * How the files of a backup are named. A finished backup is `<id>.dump` plus
 * `<id>.manifest.json`; while it is written, each lives under a temporary name that says
 * which process on which host writes it (`<id>.dump.tmp-<pid>-<host>`), so the next backup
 * or listing can tell the leftovers of a dead process from the work of a live one.
 */

/** `2026-11-21T21:27:49.123Z` → `20261121T212749Z`: ids sort by time. */
const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");

/** Keeps ids and host tags usable as file names whatever the release or host is called. */
const fileSafe = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, "-");

/**
 * The id of a backup: `<UTC time>_<environment>_<release>_<first 8 characters of the run id>`.
 *
 * @example backupId(new Date("2026-11-21T21:27:49Z"), "local", "league-2026", "0123456789") // => "20261121T212749Z_local_league-2026_01234567"
 */
export function backupId(createdAt: Date, environment: string, release: string | null, runId: string): string {
  return `${stamp(createdAt)}_${fileSafe(environment)}_${fileSafe(release ?? "manual")}_${runId.slice(0, 8)}`;
}

/** Names of finished backup files (and only those): `<id>.dump`, `<id>.manifest.json`. */
export const DUMP_NAME = /^(\d{8}T\d{6}Z_.+)\.dump$/;
export const MANIFEST_NAME = /^(\d{8}T\d{6}Z_.+)\.manifest\.json$/;
const TEMPORARY_NAME = /^(\d{8}T\d{6}Z_.+\.(?:dump|manifest\.json))\.tmp-(\d+)-(.+)$/;

/** `x.dump` → `x.manifest.json`. */
export const manifestPathOf = (dumpPath: string) => dumpPath.replace(/\.dump$/, ".manifest.json");

const HOST = fileSafe(os.hostname()) || "host";

/**
 * The temporary name under which this process writes `finalPath`.
 *
 * @example temporaryPathOf("backups/x.dump") // => "backups/x.dump.tmp-4242-buildhost"
 */
export function temporaryPathOf(finalPath: string): string {
  return `${finalPath}.tmp-${process.pid}-${HOST}`;
}

export interface TemporaryFile {
  /** The file name it will have once finished. */
  finalName: string;
  pid: number;
  host: string;
  /** The writing process is this one, or alive on this host (or the file is another host's: not ours to judge). */
  ownerAlive: boolean;
  /** The file was written on another host: its process cannot be checked from here. */
  foreign: boolean;
}

/**
 * Parses a temporary backup file name, and says whether its writer may still be alive.
 *
 * @example parseTemporary("x_1.dump.tmp-999999-buildhost") // => null unless x_1 looks like a backup id
 */
export function parseTemporary(name: string): TemporaryFile | null {
  const m = TEMPORARY_NAME.exec(name);
  if (!m) return null;
  const pid = Number(m[2]);
  const host = m[3] as string;
  const foreign = host !== HOST;
  return { finalName: m[1] as string, pid, host, foreign, ownerAlive: foreign || processAlive(pid) };
}

/** A process with this pid exists on this host (EPERM: it exists, under another user). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** fsync of a directory, so the renames in it survive a power cut. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(path.resolve(dir), "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
