/**
 * Throwaway PostgreSQL cluster for tests, the demo and CI.
 *
 * A fresh cluster lives in its own temp dir (data dir, unix socket dir, server log), listens on
 * 127.0.0.1 on a free port, uses scram-sha-256 with a (random) password for `postgres`, and is
 * tuned for speed (no fsync). It is stopped and deleted on `stop()`, and also when the process
 * exits, gets SIGINT/SIGTERM/SIGHUP, or dies of an uncaught exception / unhandled rejection
 * (Node emits 'exit' for those, and the 'exit' handler cleans up synchronously).
 *
 * initdb/postgres refuse to run as root: as root, every server-side command runs as the
 * `postgres` OS user through `runuser -u postgres --`, and the temp dir is chowned to it.
 */
import { type ExecFileOptions, execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { quoteIdent } from "../../src/sql/quote.js";
import { findPgBinaries, HarnessError, type PgBinaries } from "./pg-binaries.js";

export { HarnessError, type PgBinaries } from "./pg-binaries.js";

export interface ThrowawayPostgresOptions {
  /** Password of the `postgres` superuser (default: random). */
  password?: string;
  /** Progress messages (never contain the password). */
  log?: (msg: string) => void;
  /** Require this PostgreSQL major version. */
  major?: number;
  /** Use these binaries instead of looking them up. */
  binaries?: PgBinaries;
  /** How long to wait for the server to accept connections (default 60 s). */
  startTimeoutMs?: number;
  /**
   * synchronous_commit (default true). `false` is slightly faster, but then a crash-like
   * `stopImmediate()` (or a killed server) LOSES transactions committed in the last few hundred
   * ms: never use it for crash/durability tests. fsync/full_page_writes are always off (safe as
   * long as the OS does not crash).
   */
  synchronousCommit?: boolean;
}

export interface ThrowawayPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** postgresql://postgres:<pw>@127.0.0.1:<port>/postgres */
  readonly url: string;
  /** Temp dir holding everything below (removed by `stop()`). */
  readonly baseDir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  readonly binaries: PgBinaries;
  /** Connection URL of database `dbName` on this cluster. */
  urlFor(dbName: string): string;
  /** libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) for psql/pg_dump/pg_restore: keeps the password off argv. */
  env(dbName?: string): Record<string, string>;
  /** CREATE DATABASE (name is quoted, any name allowed); returns its URL. */
  createDatabase(name: string, opts?: { template?: string }): Promise<string>;
  /** DROP DATABASE IF EXISTS ... WITH (FORCE). */
  dropDatabase(name: string): Promise<void>;
  /** Fast shutdown, then delete the temp dir (unless `remove: false`). Idempotent. */
  stop(opts?: { remove?: boolean }): Promise<void>;
  /** `pg_ctl stop -m immediate` (crash-like, no checkpoint); data dir is kept for `start()`. */
  stopImmediate(): Promise<void>;
  /** Start again after `stopImmediate()` / `stop({ remove: false })`: same port, same data. */
  start(): Promise<void>;
  /** Last lines of the server log (empty string when unreadable). */
  logTail(lines?: number): string;
}

const HOST = "127.0.0.1";
const SUPERUSER = "postgres";
const CONF_FILE = "atomic-etl.conf";
const PG_CTL_TIMEOUT_S = 60;

const isRoot = (): boolean => typeof process.getuid === "function" && process.getuid() === 0;

// ---------------------------------------------------------------------------------------------
// helpers

function checkDbName(name: string): void {
  if (!name || name.includes("\0") || Buffer.byteLength(name, "utf8") > 63) {
    throw new HarnessError("INVALID_DATABASE_NAME", `invalid database name ${JSON.stringify(name)}: must be 1-63 bytes without NUL`);
  }
}

function confString(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** A port that was free a moment ago on 127.0.0.1 (bind port 0, read it, close). */
export function getFreePort(host = HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === "object") resolve(addr.port);
        else reject(new Error("could not determine a free port"));
      });
    });
  });
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^PG/.test(k)) env[k] = v;
  }
  env.LC_ALL = "C";
  env.LANG = "C";
  return env;
}

/** [file, args] of a server-side command, wrapped in runuser when root. */
function asServerUser(cmd: string, args: string[]): [string, string[]] {
  return isRoot() ? ["runuser", ["-u", SUPERUSER, "--", cmd, ...args]] : [cmd, args];
}

interface RunResult {
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  const [file, argv] = asServerUser(cmd, args);
  const options: ExecFileOptions = { env: childEnv(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 };
  return new Promise((resolve, reject) => {
    const child = execFile(file, argv, options, (err, stdout, stderr) => {
      const out = { stdout: String(stdout), stderr: String(stderr) };
      if (err) reject(Object.assign(err, out));
      else resolve(out);
    });
    child.stdin?.end();
  });
}

function errText(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as { message?: string; stderr?: string; stdout?: string; code?: unknown };
    if (e.code === "ENOENT" && isRoot()) {
      return `${e.message ?? ""} (running as root needs util-linux's runuser to run PostgreSQL as the postgres user)`;
    }
    const message = e.message ?? String(err);
    const detail = [e.stderr, e.stdout]
      .map((s) => s?.trim())
      .filter((s): s is string => !!s && !message.includes(s))
      .join("\n");
    return detail ? `${message}\n${detail}` : message;
  }
  return String(err);
}

function serverUserIds(): { uid: number; gid: number } {
  try {
    const uid = Number(execFileSync("id", ["-u", SUPERUSER], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", SUPERUSER], { encoding: "utf8" }).trim());
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
  } catch {
    // fall through
  }
  throw new HarnessError(
    "PG_USER_MISSING",
    'running as root, PostgreSQL must run as the "postgres" OS user, which does not exist ' +
      "(installing the postgresql package creates it; or `useradd --system postgres`)",
  );
}

function tailOf(file: string, lines = 40): string {
  try {
    const all = readFileSync(file, "utf8").split("\n");
    return all
      .slice(-lines - 1)
      .join("\n")
      .trimEnd();
  } catch {
    return "";
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// process-wide cleanup of live clusters

interface LiveCluster {
  /** Synchronous, best-effort: immediate stop + delete temp dir. */
  cleanupSync(): void;
}

const live = new Set<LiveCluster>();
let handlersInstalled = false;

function cleanupAllSync(): void {
  for (const c of [...live]) {
    try {
      c.cleanupSync();
    } catch {
      // best effort
    }
    live.delete(c);
  }
}

const onExit = (): void => cleanupAllSync();
const onSigint = (): void => {
  cleanupAllSync();
  process.exit(130);
};
const onSigterm = (): void => {
  cleanupAllSync();
  process.exit(143);
};
const onSighup = (): void => {
  cleanupAllSync();
  process.exit(129);
};

function track(c: LiveCluster): void {
  live.add(c);
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on("exit", onExit);
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigterm);
    process.on("SIGHUP", onSighup);
  }
}

function untrack(c: LiveCluster): void {
  live.delete(c);
  if (live.size === 0 && handlersInstalled) {
    handlersInstalled = false;
    process.off("exit", onExit);
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    process.off("SIGHUP", onSighup);
  }
}

/** Immediate stop of the postmaster of `dataDir`, synchronously (usable in an 'exit' handler). */
function stopSync(pgCtl: string, dataDir: string): void {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  try {
    const [file, argv] = asServerUser(pgCtl, ["stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "15", "-s"]);
    execFileSync(file, argv, { stdio: "ignore", timeout: 20_000, env: childEnv() });
    return;
  } catch {
    // fall back to signals
  }
  try {
    const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    // a stale postmaster.pid may name a recycled pid: only signal our own postmaster
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    if (Number.isInteger(pid) && pid > 0 && cmdline.includes(dataDir)) {
      process.kill(pid, "SIGQUIT"); // = immediate shutdown
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        execFileSync("sleep", ["0.1"]);
      }
      process.kill(pid, "SIGKILL");
    }
  } catch {
    // already gone
  }
}

// ---------------------------------------------------------------------------------------------

export async function startThrowawayPostgres(opts: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const log = opts.log ?? (() => {});
  const binaries = opts.binaries ?? (await findPgBinaries({ major: opts.major }));
  const password = opts.password ?? randomBytes(18).toString("base64url");
  if (!password || /[\r\n\0]/.test(password)) {
    throw new HarnessError("INVALID_PASSWORD", "password must be non-empty and single-line");
  }
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  const root = isRoot();
  const ids = root ? serverUserIds() : null;

  const baseDir = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-pg-"));
  const dataDir = path.join(baseDir, "data");
  const socketDir = path.join(baseDir, "sock");
  const logFile = path.join(baseDir, "postgres.log");
  const pwFile = path.join(baseDir, "pwfile");

  let state: "init" | "running" | "stopped" | "removed" = "init";
  const tracked: LiveCluster = {
    cleanupSync() {
      if (state === "removed") return;
      stopSync(binaries.pg_ctl, dataDir);
      rmSync(baseDir, { recursive: true, force: true });
      state = "removed";
    },
  };
  track(tracked);

  let port = 0;
  const cluster: ThrowawayPostgres = {
    host: HOST,
    get port() {
      return port;
    },
    user: SUPERUSER,
    password,
    get url() {
      return cluster.urlFor("postgres");
    },
    baseDir,
    dataDir,
    socketDir,
    logFile,
    binaries,
    urlFor(dbName: string) {
      return `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@${HOST}:${port}/${encodeURIComponent(dbName)}`;
    },
    env(dbName = "postgres") {
      return {
        PGHOST: HOST,
        PGPORT: String(port),
        PGUSER: SUPERUSER,
        PGPASSWORD: password,
        PGDATABASE: dbName,
      };
    },
    async createDatabase(name, dbOpts = {}) {
      checkDbName(name);
      let sql = `CREATE DATABASE ${quoteIdent(name)}`;
      if (dbOpts.template !== undefined) {
        checkDbName(dbOpts.template);
        sql += ` TEMPLATE ${quoteIdent(dbOpts.template)}`;
      }
      await adminQuery(sql);
      return cluster.urlFor(name);
    },
    async dropDatabase(name) {
      checkDbName(name);
      await adminQuery(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    },
    async stop(stopOpts = {}) {
      const remove = stopOpts.remove ?? true;
      if (state === "removed") return;
      if (state === "running") {
        try {
          await run(binaries.pg_ctl, ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", String(PG_CTL_TIMEOUT_S), "-s"], 90_000);
        } catch (err) {
          log(`pg_ctl stop -m fast failed, stopping immediately: ${errText(err)}`);
          stopSync(binaries.pg_ctl, dataDir);
        }
        state = "stopped";
        log(`stopped PostgreSQL on ${HOST}:${port}`);
      }
      if (remove) {
        stopSync(binaries.pg_ctl, dataDir); // no-op unless something is still running
        await rm(baseDir, { recursive: true, force: true });
        state = "removed";
        untrack(tracked);
      }
    },
    async stopImmediate() {
      if (state !== "running") return;
      await run(binaries.pg_ctl, ["stop", "-D", dataDir, "-m", "immediate", "-w", "-t", String(PG_CTL_TIMEOUT_S), "-s"], 90_000);
      state = "stopped";
      log(`stopped PostgreSQL on ${HOST}:${port} (immediate)`);
    },
    async start() {
      if (state === "removed") {
        throw new HarnessError("CLUSTER_REMOVED", "cannot start a throwaway cluster after stop() removed it");
      }
      if (state === "running") return;
      await pgCtlStart();
      await waitReady();
      state = "running";
    },
    logTail(lines = 40) {
      return tailOf(logFile, lines);
    },
  };

  async function adminQuery(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: cluster.url });
    client.on("error", () => {});
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end().catch(() => {});
    }
  }

  function writePortConf(): void {
    const settings: Record<string, string> = {
      listen_addresses: confString(HOST),
      port: String(port),
      unix_socket_directories: confString(socketDir),
      fsync: "off",
      synchronous_commit: opts.synchronousCommit === false ? "off" : "on",
      full_page_writes: "off",
      max_connections: "200",
      logging_collector: "off",
      log_min_messages: "warning",
    };
    const text = `${Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join("\n")}\n`;
    writeFileSync(path.join(dataDir, CONF_FILE), text);
    if (ids) chownSync(path.join(dataDir, CONF_FILE), ids.uid, ids.gid);
  }

  async function pgCtlStart(): Promise<void> {
    try {
      await run(
        binaries.pg_ctl,
        ["start", "-D", dataDir, "-l", logFile, "-w", "-t", String(Math.ceil(startTimeoutMs / 1000)), "-s"],
        startTimeoutMs + 30_000,
      );
    } catch (err) {
      throw new HarnessError(
        "PG_START_FAILED",
        `PostgreSQL ${binaries.major} failed to start on ${HOST}:${port} (data ${dataDir}): ${errText(err)}\n` +
          `--- server log tail (${logFile}) ---\n${tailOf(logFile) || "(empty)"}`,
        { cause: err },
      );
    }
  }

  async function waitReady(): Promise<void> {
    const deadline = Date.now() + startTimeoutMs;
    let lastErr: unknown;
    while (Date.now() < deadline) {
      const client = new pg.Client({ connectionString: cluster.url, connectionTimeoutMillis: 5_000 });
      client.on("error", () => {});
      try {
        await client.connect();
        await client.query("SELECT 1");
        await client.end();
        return;
      } catch (err) {
        lastErr = err;
        await client.end().catch(() => {});
        await sleep(100);
      }
    }
    throw new HarnessError(
      "PG_START_TIMEOUT",
      `PostgreSQL on ${HOST}:${port} did not accept connections within ${startTimeoutMs} ms: ${errText(lastErr)}\n` +
        `--- server log tail (${logFile}) ---\n${tailOf(logFile) || "(empty)"}`,
    );
  }

  try {
    mkdirSync(socketDir, { mode: 0o700 });
    if (ids) {
      chownSync(baseDir, ids.uid, ids.gid);
      chownSync(socketDir, ids.uid, ids.gid);
    }
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    if (ids) chownSync(pwFile, ids.uid, ids.gid);

    log(`initdb (PostgreSQL ${binaries.major}, ${binaries.dir}) in ${dataDir}${root ? " as OS user postgres" : ""}`);
    try {
      await run(
        binaries.initdb,
        ["-D", dataDir, "-U", SUPERUSER, "--auth=scram-sha-256", `--pwfile=${pwFile}`, "-E", "UTF8", "--locale=C", "--no-sync"],
        180_000,
      );
    } catch (err) {
      throw new HarnessError("PG_INITDB_FAILED", `initdb failed in ${dataDir}: ${errText(err)}`, { cause: err });
    } finally {
      rmSync(pwFile, { force: true });
    }
    appendFileSync(path.join(dataDir, "postgresql.conf"), `\n# added by atomic-etl harness\ninclude '${CONF_FILE}'\n`);

    // The free port can be taken by someone else between probing and binding: retry a few times.
    for (let attempt = 1; ; attempt++) {
      port = await getFreePort();
      writePortConf();
      try {
        await pgCtlStart();
        break;
      } catch (err) {
        const tail = tailOf(logFile, 20);
        if (attempt < 4 && /could not bind|address already in use|could not create any TCP\/IP sockets/i.test(tail)) {
          log(`port ${port} was taken, retrying`);
          stopSync(binaries.pg_ctl, dataDir);
          continue;
        }
        throw err;
      }
    }
    await waitReady();
    state = "running";
    log(`PostgreSQL ${binaries.major} ready on ${HOST}:${port} (data ${dataDir})`);
    return cluster;
  } catch (err) {
    tracked.cleanupSync();
    untrack(tracked);
    throw err;
  }
}
