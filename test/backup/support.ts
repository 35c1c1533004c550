/**
 * Helpers of the backup tests: stand-in client tools on PATH/PG_BIN_DIR (recording how they
 * were called, or pretending to be another version), process.env save/restore, and damage
 * done to dump files.
 *
 * @example
 * const tools = await recordingTools(dir);      // wrappers that log argv + env names, then exec the real tool
 * process.env.PG_BIN_DIR = tools.dir;
 */
import { chmod, mkdir, open, readFile, stat, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { manifestPathOf, markBackupOutcome, type RunOutcome } from "../../src/backup/manifest.js";
import { type Fingerprint, fingerprintTable } from "../../src/db/fingerprint.js";
import { pgTx } from "../../src/db/pg-client.js";
import type { QualifiedName } from "../../src/sql/quote.js";
import { pgBinaries } from "../support/postgres.js";

const TOOLS = ["pg_dump", "pg_restore", "psql"] as const;

/** Restores process.env keys changed by a test. */
export function envGuard(...keys: string[]): () => void {
  const saved = new Map(keys.map((k) => [k, process.env[k]]));
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

async function script(file: string, body: string): Promise<void> {
  await writeFile(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  await chmod(file, 0o755);
}

export interface RecordingTools {
  dir: string;
  /** One entry per call: the tool, its argv, and the NAMES of its environment variables. */
  calls(): Promise<{ tool: string; argv: string; envNames: string[] }[]>;
}

/**
 * pg_dump, pg_restore and psql wrappers in `dir` that append their argv and the names (never
 * the values) of their environment variables to a log, then exec the real tool.
 */
export async function recordingTools(dir: string): Promise<RecordingTools> {
  const real = await pgBinaries();
  await mkdir(dir, { recursive: true });
  const log = path.join(dir, "calls.log");
  await writeFile(log, "");
  for (const t of TOOLS) {
    await script(
      path.join(dir, t),
      [
        // the entry is built first and appended in one write: tools the backup runs side by side must not interleave
        `entry="$(printf '%s\\037' ${sh(t)} "$*"; env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p' | tr '\\n' ' ')"`,
        `printf '%s\\n' "$entry" >> ${sh(log)}`,
        `exec ${sh(path.join(real.dir, t))} "$@"`,
      ].join("\n"),
    );
  }
  return {
    dir,
    async calls() {
      const text = await readFile(log, "utf8");
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [tool = "", argv = "", names = ""] = line.split("\u001f");
          return { tool, argv, envNames: names.trim().split(" ") };
        });
    },
  };
}

/** A pg_dump that only reports `version` (e.g. "9.6.0") and fails if asked to dump. */
export async function fakeOldPgDump(dir: string, version: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await script(
    path.join(dir, "pg_dump"),
    `if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) ${version}"; exit 0; fi\necho "this fake pg_dump must never dump" >&2\nexit 99`,
  );
}

/**
 * A pg_dump 16 built without zstd: refuses `--compress=zstd…` as such a build does, and runs
 * the real (older) pg_dump for gzip, translating the method-qualified form it cannot parse.
 */
export async function fakePgDump16WithoutZstd(dir: string): Promise<void> {
  const real = await pgBinaries();
  await standInPgDump(dir, [
    `if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 16.4"; exit 0; fi`,
    `for a in "$@"; do`,
    `  shift`,
    `  case "$a" in`,
    `    --compress=zstd*) echo "pg_dump: error: invalid compression specification: this build does not support compression with ZSTD" >&2; exit 1 ;;`,
    `    --compress=gzip:*) set -- "$@" "--compress=\${a#--compress=gzip:}" ;;`,
    `    *) set -- "$@" "$a" ;;`,
    `  esac`,
    `done`,
    `exec ${sh(real.pg_dump)} "$@"`,
  ]);
}

/** A pg_dump made of the shell `lines` in `dir`, beside the real pg_restore and psql. */
export async function standInPgDump(dir: string, lines: readonly string[]): Promise<void> {
  const real = await pgBinaries();
  await mkdir(dir, { recursive: true });
  await script(path.join(dir, "pg_dump"), lines.join("\n"));
  for (const t of ["pg_restore", "psql"] as const) await script(path.join(dir, t), `exec ${sh(real[t])} "$@"`);
}

/** Overwrites `count` bytes in the middle of a file. */
export async function corruptMiddle(file: string, count = 64): Promise<void> {
  const { size } = await stat(file);
  const fh = await open(file, "r+");
  try {
    await fh.write(Buffer.alloc(count, 0x5a), 0, count, Math.floor(size / 2));
  } finally {
    await fh.close();
  }
}

/** Cuts the last `bytes` off a file: in a small custom-format dump, that is inside the last data block. */
export async function cutTail(file: string, bytes: number): Promise<void> {
  const { size } = await stat(file);
  await truncate(file, size - bytes);
}

/** Cuts a file to `fraction` of its size. */
export async function truncateTo(file: string, fraction: number): Promise<void> {
  const { size } = await stat(file);
  await truncate(file, Math.floor(size * fraction));
}

/** Fingerprints of any tables (`name` in public, or `schema.name`), read through a plain pg connection. */
export async function fingerprintsOf(url: string, tables: readonly string[]): Promise<Record<string, Fingerprint>> {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => undefined);
  await c.connect();
  try {
    const out: Record<string, Fingerprint> = {};
    for (const t of tables) {
      const [schema, name] = t.includes(".") ? (t.split(".") as [string, string]) : ["public", t];
      out[t] = await fingerprintTable(pgTx(c), { schema, name } satisfies QualifiedName);
    }
    return out;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * Records a run's outcome in its backup's manifest, as the runner does once the run has ended
 * (until the runner calls markBackupOutcome itself, tests that need `latest` or retention after
 * an import say it here).
 */
export async function markRun(report: { backup: { path: string } | null }, outcome: RunOutcome = "committed"): Promise<void> {
  if (!report.backup) throw new Error("the run took no backup");
  await markBackupOutcome(manifestPathOf(report.backup.path), outcome);
}

/** Rewrites a backup's manifest as a run killed before it sent COMMIT leaves it: pending, no transaction id. */
export async function asIfKilledBeforeCommit(report: { backup: { path: string } | null }): Promise<void> {
  if (!report.backup) throw new Error("the run took no backup");
  const file = manifestPathOf(report.backup.path);
  const m = JSON.parse(await readFile(file, "utf8")) as { run: Record<string, unknown> };
  m.run = { outcome: "pending" };
  await writeFile(file, `${JSON.stringify(m, null, 2)}\n`);
}

/** Rewrites a backup's manifest as format 1 wrote it: no identity, no run outcome, no partitions. */
export async function downgradeToFormat1(dumpPath: string): Promise<void> {
  const file = manifestPathOf(dumpPath);
  const m = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown> & { tables: Record<string, Record<string, unknown>> };
  const { identity: _i, run: _r, otherTables: _o, ...rest } = m;
  const tables = Object.fromEntries(Object.entries(m.tables).map(([n, { partitions: _p, ...t }]) => [n, t]));
  await writeFile(file, JSON.stringify({ ...rest, formatVersion: 1, tables }, null, 2));
}
