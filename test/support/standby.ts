/**
 * A real streaming hot standby of a throwaway primary, for tests that must prove a command
 * works read-only: `pg_basebackup -R` from the primary (tools/harness/throwaway-postgres.ts),
 * then the copy started on its own port in recovery. It shares the primary's temp dir, so
 * `primary.stop()` removes it too; `standby.stop()` stops it first.
 *
 * @example
 * const primary = await startThrowawayPostgres();
 * const standby = await startStandby(primary);
 * await standby.caughtUp();            // replayed everything the primary has written
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { pgToolPath } from "../../tools/harness/pg-binaries.js";
import { getFreePort, type ThrowawayPostgres } from "../../tools/harness/throwaway-postgres.js";

const run = promisify(execFile);
const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

export interface Standby {
  port: number;
  /** URL of database `db` on the standby (same credentials as the primary). */
  urlFor(db: string): string;
  /** Waits until the standby has replayed the primary's current WAL position. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Runs a server-side tool as the `postgres` OS user when root (initdb/postgres refuse root). */
async function asServer(cmd: string, args: string[], env: Record<string, string>): Promise<void> {
  const [file, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  await run(file, argv, { env: { ...process.env, ...env, LC_ALL: "C" }, timeout: 120_000 });
}

async function query<T>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => undefined);
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function startStandby(primary: ThrowawayPostgres): Promise<Standby> {
  const dataDir = path.join(primary.baseDir, "standby");
  const socketDir = path.join(primary.baseDir, "standby-sock");
  const logFile = path.join(primary.baseDir, "standby.log");
  await mkdir(socketDir, { mode: 0o700 });
  if (isRoot()) await run("chown", ["postgres:postgres", socketDir]);
  // -R writes standby.signal and primary_conninfo; -X stream copies the WAL the backup needs
  await asServer(
    pgToolPath(primary.binaries, "pg_basebackup"),
    ["-D", dataDir, "-R", "-X", "stream", "-c", "fast", "-h", primary.host, "-p", String(primary.port), "-U", primary.user],
    {
      PGPASSWORD: primary.password,
    },
  );
  const port = await getFreePort();
  // the copied atomic-etl.conf still names the primary's port and socket dir
  writeFileSync(
    path.join(dataDir, "atomic-etl.conf"),
    `listen_addresses = '${primary.host}'\nport = ${port}\nunix_socket_directories = '${socketDir}'\nfsync = off\nhot_standby = on\nmax_connections = 200\n`,
  );
  if (isRoot()) await run("chown", ["postgres:postgres", path.join(dataDir, "atomic-etl.conf")]);
  await asServer(primary.binaries.pg_ctl, ["start", "-D", dataDir, "-l", logFile, "-w", "-t", "60", "-s"], {});
  const urlFor = (db: string) =>
    `postgresql://${primary.user}:${encodeURIComponent(primary.password)}@${primary.host}:${port}/${encodeURIComponent(db)}`;
  let stopped = false;
  return {
    port,
    urlFor,
    async caughtUp(timeoutMs = 30_000) {
      const [p] = await query<{ lsn: string }>(primary.url, "SELECT pg_current_wal_lsn()::text AS lsn");
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const [s] = await query<{ ok: boolean }>(urlFor("postgres"), `SELECT pg_last_wal_replay_lsn() >= '${p?.lsn}'::pg_lsn AS ok`).catch(
          () => [{ ok: false }],
        );
        if (s?.ok) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`standby did not replay up to ${p?.lsn} within ${timeoutMs} ms`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await asServer(primary.binaries.pg_ctl, ["stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "30", "-s"], {}).catch(
        () => undefined,
      );
    },
  };
}
