import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { silentLogger } from "../reporting/logger.js";
import { DUMP_NAME, parseTemporary, type TemporaryFile } from "./backup-files.js";

/** What a sweep of the backup folder found. */
export interface SweepResult {
  /** Removed: temporary files of processes that are gone, and dumps that never got a manifest. */
  removed: string[];
  /** Temporary files of live processes (backups being written right now): never touched. */
  inProgress: string[];
  /** Left alone, with the reason: another host's temporary files, a recent dump without manifest. */
  leftAlone: { file: string; why: string }[];
}

/**
 * A dump without a manifest and without a temporary manifest can only come from an older
 * atomic-etl (which wrote dumps under their final name) or from a hand-deleted manifest. One
 * modified within this window may still be written by such a process, so it is left alone.
 */
const LEGACY_GRACE_MS = 60 * 60 * 1000;

/**
 * Removes what interrupted backups left in `dir`: temporary files (`*.tmp-<pid>-<host>`) whose
 * process on this host is gone, and `<id>.dump` files without `<id>.manifest.json` that no live
 * process is still finishing. Files of live processes, and other hosts' temporary files, are
 * never touched. Runs before every backup and in `atomic-etl backups`.
 *
 * @example const { removed } = await sweepOrphans("backups", { log })
 */
export async function sweepOrphans(dir: string, opts: { log?: Logger } = {}): Promise<SweepResult> {
  const started = performance.now();
  const out: SweepResult = { removed: [], inProgress: [], leftAlone: [] };
  const names = await readdir(dir).catch(() => [] as string[]);
  const present = new Set(names);
  const temporaries = names.map((n) => [n, parseTemporary(n)] as const).filter((x): x is [string, TemporaryFile] => x[1] !== null);
  const liveFinals = new Set(temporaries.filter(([, t]) => t.ownerAlive).map(([, t]) => t.finalName));
  const deadFinals = new Set(temporaries.filter(([, t]) => !t.ownerAlive).map(([, t]) => t.finalName));
  for (const [name, t] of temporaries) {
    if (t.foreign) out.leftAlone.push({ file: name, why: `written on host ${t.host}: its process cannot be checked from here` });
    else if (t.ownerAlive) out.inProgress.push(name);
    else if (await remove(dir, name)) out.removed.push(name);
  }
  for (const name of names) {
    const id = DUMP_NAME.exec(name)?.[1];
    if (!id || present.has(`${id}.manifest.json`) || liveFinals.has(`${id}.manifest.json`) || liveFinals.has(name)) continue;
    const interrupted = deadFinals.has(`${id}.manifest.json`);
    const verdict = await judgeDump(dir, name, id, interrupted);
    if (verdict === "finished") continue;
    if (verdict !== "orphan") out.leftAlone.push({ file: name, why: verdict });
    else if (await remove(dir, name)) out.removed.push(name);
  }
  const log = opts.log ?? silentLogger();
  const counts = { removed: out.removed.length, inProgress: out.inProgress.length, leftAlone: out.leftAlone.length };
  const durationMs = Math.round(performance.now() - started);
  if (counts.removed || counts.leftAlone) log.info({ phase: "backup-sweep", ...counts, ...out, durationMs }, "swept the backup folder");
  else log.debug({ phase: "backup-sweep", ...counts, durationMs }, "backup folder clean");
  return out;
}

/**
 * A dump without manifest, looked at again right before it would be removed: `finished` (its
 * manifest has appeared, or a live process is about to rename it into place), `orphan`, or why
 * it stays.
 */
async function judgeDump(dir: string, name: string, id: string, interrupted: boolean): Promise<string> {
  if (await stat(path.join(dir, `${id}.manifest.json`)).catch(() => null)) return "finished";
  const live = (await readdir(dir).catch(() => [] as string[])).some((n) => {
    const t = parseTemporary(n);
    return t?.ownerAlive === true && (t.finalName === name || t.finalName === `${id}.manifest.json`);
  });
  if (live) return "finished";
  if (interrupted) return "orphan"; // its writer died between renaming the dump and the manifest
  const st = await stat(path.join(dir, name)).catch(() => null);
  if (st && Date.now() - st.mtimeMs < LEGACY_GRACE_MS) {
    return "no manifest, but written within the last hour: an older atomic-etl may still be writing it (removed once older)";
  }
  return "orphan";
}

async function remove(dir: string, name: string): Promise<boolean> {
  return rm(path.join(dir, name), { force: true }).then(
    () => true,
    () => false,
  );
}
