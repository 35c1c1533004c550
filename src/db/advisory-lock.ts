import pg from "pg";
import { EtlError } from "../errors.js";

/** The advisory-lock key pair every atomic-etl run (import or restore) takes on a database. */
export const LOCK_CLASS = 0x41544f4d; // "ATOM"

/** Stable 31-bit key for a schema name, so runs on different schemas do not exclude each other. */
export function lockKey(schema: string): number {
  let h = 0;
  for (const ch of schema) h = (Math.imul(h, 31) + (ch.codePointAt(0) ?? 0)) | 0;
  return h & 0x7fffffff;
}

export interface HeldLock {
  /** Backend pid of the lock's session. */
  pid: number;
  /**
   * Throws LOCK_LOST unless the lock's session is alive and still holds the lock: a run
   * calls it right before COMMIT, so that it never commits once another run could have
   * taken the lock (its session was terminated, or the network dropped it).
   */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

export interface LockHolder {
  pid: number;
  applicationName: string;
  backendStart: string | null;
  state: string | null;
}

const HOLDER_SQL = `
SELECT a.pid, a.application_name, a.backend_start::text AS backend_start, a.state
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.objsubid = 2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
LIMIT 1`;

/**
 * Takes the session-level advisory lock on its own connection, held for the whole run.
 * The server releases it if the process dies. A second run fails fast with LOCK_HELD,
 * naming the holder, or waits up to `waitMs` when given.
 */
const HELD_SQL = `
SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
  AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2) AS ok`;

export async function acquireRunLock(url: string, schema: string, opts: { applicationName: string; waitMs?: number }): Promise<HeldLock> {
  const client = new pg.Client({ connectionString: url, application_name: opts.applicationName });
  client.on("error", () => undefined); // a dropped lock connection surfaces in the run itself
  await client.connect();
  const key = lockKey(schema);
  try {
    let got: boolean;
    if (opts.waitMs && opts.waitMs > 0) {
      await client.query("SELECT set_config('lock_timeout', $1, false)", [`${opts.waitMs}ms`]);
      got = await client.query("SELECT pg_advisory_lock($1, $2)", [LOCK_CLASS, key]).then(
        () => true,
        (e: { code?: string }) => {
          if (e.code === "55P03") return false;
          throw e;
        },
      );
    } else {
      const r = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS ok", [LOCK_CLASS, key]);
      got = r.rows[0]?.ok === true;
    }
    if (!got) {
      const h = await client.query<{ pid: number; application_name: string; backend_start: string | null; state: string | null }>(
        HOLDER_SQL,
        [LOCK_CLASS, key],
      );
      const holder = h.rows[0];
      throw new EtlError(
        "LOCK_HELD",
        holder
          ? `another run holds the lock (pid ${holder.pid}, ${holder.application_name || "unknown application"}, started ${holder.backend_start})`
          : "another run holds the lock",
        {
          step: "lock",
          next: "wait for it to finish, or pass --wait to queue behind it",
          meta: holder ? { pid: holder.pid, applicationName: holder.application_name, backendStart: holder.backend_start } : {},
        },
      );
    }
    const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid ?? 0;
    return {
      pid,
      async assertHeld() {
        const held = await client.query<{ ok: boolean }>(HELD_SQL, [LOCK_CLASS, key]).then(
          (r) => r.rows[0]?.ok === true,
          () => false,
        );
        if (!held) {
          throw new EtlError(
            "LOCK_LOST",
            `the run lock's session (pid ${pid}) ended or no longer holds the lock; another run may have started`,
            {
              step: "commit",
              next: "check for another atomic-etl run (atomic-etl backups, pg_stat_activity), then re-run",
            },
          );
        }
      },
      async release() {
        try {
          await client.query("SELECT pg_advisory_unlock($1, $2)", [LOCK_CLASS, key]);
        } finally {
          await client.end().catch(() => undefined);
        }
      },
    };
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
}
