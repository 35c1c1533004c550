import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { EtlError } from "../errors.js";

export type ClientTool = "pg_dump" | "pg_restore" | "psql";

export interface ResolvedTool {
  path: string;
  /** Major version, from `<tool> --version`. */
  major: number;
  version: string;
}

function candidates(name: ClientTool, env: NodeJS.ProcessEnv): string[] {
  if (env.PG_BIN_DIR) return [path.join(env.PG_BIN_DIR, name)];
  const out = (env.PATH ?? "").split(path.delimiter).filter(Boolean).map((d) => path.join(d, name));
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const majors = readdirSync(debian).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
    for (const m of majors) out.push(path.join(debian, m, "bin", name));
  }
  return out;
}

/**
 * Finds a Postgres client tool: `PG_BIN_DIR`, then PATH, then /usr/lib/postgresql/<newest>/bin.
 * PATH wins over the Debian folders, so what a user put first is what runs.
 */
export async function resolveClientTool(name: ClientTool, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedTool> {
  for (const p of candidates(name, env)) {
    if (!existsSync(p)) continue;
    const r = await execa(p, ["--version"], { reject: false, env: { PATH: env.PATH ?? "" }, extendEnv: false });
    const m = /(\d+)(?:\.(\d+))?/.exec(r.stdout ?? "");
    if (r.exitCode === 0 && m) return { path: p, major: Number(m[1]), version: (r.stdout ?? "").trim() };
  }
  throw new EtlError("BACKUP_FAILED", `${name} not found (looked in PG_BIN_DIR, PATH and /usr/lib/postgresql/*/bin)`, {
    step: "backup",
    next: `install the PostgreSQL client matching your server (Debian/Ubuntu: apt-get install -y postgresql-client), or run with --no-backup`,
  });
}

/**
 * libpq environment for a connection URL, so that no secret (nor the URL) reaches argv.
 * The password goes in PGPASSWORD, read by the child only.
 */
export function libpqEnv(url: string): Record<string, string> {
  const u = new URL(url);
  const env: Record<string, string> = {};
  const host = u.searchParams.get("host") ?? decodeURIComponent(u.hostname);
  if (host) env.PGHOST = host;
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (db) env.PGDATABASE = db;
  const map: Record<string, string> = { sslmode: "PGSSLMODE", sslrootcert: "PGSSLROOTCERT", sslcert: "PGSSLCERT", sslkey: "PGSSLKEY", connect_timeout: "PGCONNECT_TIMEOUT", options: "PGOPTIONS" };
  for (const [k, v] of Object.entries(map)) {
    const val = u.searchParams.get(k);
    if (val) env[v] = val;
  }
  env.PGAPPNAME = "atomic-etl";
  return env;
}
