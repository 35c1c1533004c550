/**
 * Locate the PostgreSQL server + client binaries of ONE major version.
 *
 * Search order:
 *   1. `PG_BIN_DIR` (if set, it is the only place looked at),
 *   2. every directory on PATH that has `pg_ctl` (and, when `pg_ctl` there is a symlink, the
 *      directory it points into, e.g. /usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin/pg_ctl),
 *   3. `/usr/lib/postgresql/<major>/bin`, highest major first (Debian/Ubuntu layout).
 *
 * A directory only counts when it holds ALL the tools listed in `PG_TOOLS`; its version is read
 * from `pg_ctl --version`.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, realpath } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { pgBinDirs } from "../../src/backup/pg-tools.js";

const execFileAsync = promisify(execFile);

/** Error raised by the throwaway-Postgres harness; `code` is stable, the message is for humans. */
export class HarnessError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HarnessError";
    this.code = code;
  }
}

export const PG_TOOLS = ["initdb", "pg_ctl", "postgres", "pg_dump", "pg_restore", "psql"] as const;
export type PgToolName = (typeof PG_TOOLS)[number];

export type PgBinaries = { dir: string; major: number } & { [K in PgToolName]: string };

export const PG_INSTALL_HINT =
  "Install PostgreSQL (server + client binaries). On Debian/Ubuntu: " +
  "`apt-get update && apt-get install -y postgresql` (prefix with sudo when not root). " +
  "Or set PG_BIN_DIR to a directory containing initdb, pg_ctl, postgres, pg_dump, pg_restore and psql.";

export interface FindPgBinariesOptions {
  /** Require this major version (e.g. 15). */
  major?: number;
  /** Environment to read PATH / PG_BIN_DIR from (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Absolute path of one tool inside a located binaries set. */
export function pgToolPath(binaries: Pick<PgBinaries, "dir">, name: string): string {
  return path.join(binaries.dir, name);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Major version reported by `<dir>/pg_ctl --version`, or null when it cannot be determined. */
export async function readPgMajor(dir: string): Promise<number | null> {
  try {
    const { stdout } = await execFileAsync(path.join(dir, "pg_ctl"), ["--version"], { timeout: 10_000 });
    const m = /\(PostgreSQL\)\s+(\d+)/.exec(stdout) ?? /(\d+)(?:\.\d+)*/.exec(stdout);
    return m?.[1] ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Inspect one directory; returns the binaries when it holds all tools (of the wanted major). */
async function probeDir(dir: string, wantMajor?: number): Promise<PgBinaries | null> {
  const abs = path.resolve(dir);
  for (const tool of PG_TOOLS) {
    if (!(await isExecutable(path.join(abs, tool)))) return null;
  }
  const major = await readPgMajor(abs);
  if (major === null || (wantMajor !== undefined && major !== wantMajor)) return null;
  const tools = Object.fromEntries(PG_TOOLS.map((t) => [t, path.join(abs, t)])) as {
    [K in PgToolName]: string;
  };
  return { dir: abs, major, ...tools };
}

/** The product's own search order (src/backup/pg-tools.ts), plus where a symlinked pg_ctl really lives. */
async function candidateDirs(env: NodeJS.ProcessEnv): Promise<string[]> {
  const out: string[] = [];
  for (const dir of pgBinDirs({ ...env, PG_BIN_DIR: "" })) {
    out.push(dir);
    try {
      out.push(path.dirname(await realpath(path.join(dir, "pg_ctl"))));
    } catch {
      // no pg_ctl here, or a dangling symlink
    }
  }
  return out;
}

export async function findPgBinaries(opts: FindPgBinariesOptions = {}): Promise<PgBinaries> {
  const env = opts.env ?? process.env;
  const want = opts.major;
  const wanted = want === undefined ? "" : ` of major version ${want}`;

  const override = env.PG_BIN_DIR?.trim();
  if (override) {
    const found = await probeDir(override, want);
    if (found) return found;
    const missing: string[] = [];
    for (const tool of PG_TOOLS) {
      if (!(await isExecutable(path.join(override, tool)))) missing.push(tool);
    }
    const why = missing.length ? `it lacks ${missing.join(", ")}` : `its pg_ctl --version did not report PostgreSQL${wanted}`;
    throw new HarnessError(
      "PG_BINARIES_MISSING",
      `PG_BIN_DIR=${override} does not hold usable PostgreSQL binaries${wanted}: ${why}. ${PG_INSTALL_HINT}`,
    );
  }

  const seen = new Set<string>();
  for (const dir of await candidateDirs(env)) {
    const abs = path.resolve(dir);
    if (seen.has(abs)) continue;
    seen.add(abs);
    const found = await probeDir(abs, want);
    if (found) return found;
  }
  throw new HarnessError(
    "PG_BINARIES_MISSING",
    `PostgreSQL binaries${wanted} not found (looked on PATH and in /usr/lib/postgresql/*/bin; need ${PG_TOOLS.join(", ")} in one directory). ${PG_INSTALL_HINT}`,
  );
}
