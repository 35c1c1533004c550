import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { type ErrorCode, EtlError, type Step } from "../errors.js";

export type ClientTool = "pg_dump" | "pg_restore" | "psql";

export interface ResolvedTool {
  path: string;
  /** Major version, from `<tool> --version`. */
  major: number;
  version: string;
}

/**
 * Where PostgreSQL's programs may be, in the order they are looked for: `PG_BIN_DIR` alone
 * when it is set; otherwise every PATH folder, then /usr/lib/postgresql/<major>/bin, newest
 * major first (Debian's layout). The one list every finder of Postgres binaries uses.
 *
 * @example pgBinDirs({ PATH: "/usr/bin" }) // => ["/usr/bin", "/usr/lib/postgresql/15/bin"]
 */
export function pgBinDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.PG_BIN_DIR?.trim()) return [env.PG_BIN_DIR.trim()];
  const out = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const majors = readdirSync(debian)
      .filter((d) => /^\d+(\.\d+)?$/.test(d))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    for (const m of majors) out.push(path.join(debian, m, "bin"));
  }
  return out;
}

const candidates = (name: ClientTool, env: NodeJS.ProcessEnv) => pgBinDirs(env).map((d) => path.join(d, name));

const MISSING: Partial<Record<Step, ErrorCode>> = { backup: "BACKUP_FAILED", restore: "RESTORE_FAILED" };

/**
 * Finds a Postgres client tool: `PG_BIN_DIR`, then PATH, then /usr/lib/postgresql/<newest>/bin.
 * PATH wins over the Debian folders, so what a user put first is what runs. A missing tool
 * fails the `step` that needs it.
 *
 * @example const { path, major } = await resolveClientTool("pg_dump")
 */
export async function resolveClientTool(
  name: ClientTool,
  env: NodeJS.ProcessEnv = process.env,
  step: Step = "backup",
): Promise<ResolvedTool> {
  for (const p of candidates(name, env)) {
    if (!existsSync(p)) continue;
    const r = await execa(p, ["--version"], { reject: false, env: { PATH: env.PATH ?? "" }, extendEnv: false });
    const m = /(\d+)(?:\.(\d+))?/.exec(r.stdout ?? "");
    if (r.exitCode === 0 && m) return { path: p, major: Number(m[1]), version: (r.stdout ?? "").trim() };
  }
  throw new EtlError(
    MISSING[step] ?? "BACKUP_VERIFY_FAILED",
    `${name} not found (looked in PG_BIN_DIR, PATH and /usr/lib/postgresql/*/bin)`,
    {
      step,
      next: `install the PostgreSQL client matching your server (Debian/Ubuntu: apt-get install -y postgresql-client)${step === "backup" ? ", or run with --no-backup" : ""}`,
    },
  );
}

/** URL query parameters libpq also reads from the environment. */
const PARAM_ENV: Record<string, string> = {
  host: "PGHOST",
  port: "PGPORT",
  user: "PGUSER",
  password: "PGPASSWORD",
  dbname: "PGDATABASE",
  sslmode: "PGSSLMODE",
  sslrootcert: "PGSSLROOTCERT",
  sslcert: "PGSSLCERT",
  sslkey: "PGSSLKEY",
  connect_timeout: "PGCONNECT_TIMEOUT",
  options: "PGOPTIONS",
  target_session_attrs: "PGTARGETSESSIONATTRS",
};

/**
 * libpq environment for a connection URL, so that no secret (nor the URL) reaches argv:
 * the password goes in PGPASSWORD, read by the child only. Query parameters win over the
 * URL's parts, as in libpq.
 *
 * @example libpqEnv("postgresql://app:s3cret@db:5432/shop?sslmode=require")
 * // => { PGHOST: "db", PGPORT: "5432", PGUSER: "app", PGPASSWORD: "s3cret", PGDATABASE: "shop", PGSSLMODE: "require", PGAPPNAME: "atomic-etl" }
 */
export function libpqEnv(url: string): Record<string, string> {
  const u = new URL(url);
  const env: Record<string, string> = {};
  const host = decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, "$1");
  if (host) env.PGHOST = host;
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (db) env.PGDATABASE = db;
  for (const [k, v] of Object.entries(PARAM_ENV)) {
    const val = u.searchParams.get(k);
    if (val) env[v] = val;
  }
  env.PGAPPNAME = "atomic-etl";
  return env;
}
