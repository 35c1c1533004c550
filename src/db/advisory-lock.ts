import os from "node:os";
import pg from "pg";
import { EtlError } from "../errors.js";
import { advisoryLock, advisoryLockHolder, advisoryUnlock, holdsAdvisoryLock, sessionLockTimeout, tryAdvisoryLock } from "../sql/locks.js";
import { backendPid } from "../sql/session.js";
import type { Statement } from "../sql/statement.js";
import { openOrClose, pgTx } from "./pg-client.js";
import type { TxLike } from "./prisma-like.js";

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
  /** The lock's own session, for reading facts of the database it reached (its identity). */
  session: TxLike;
  /**
   * Throws LOCK_LOST unless the lock's session is alive and still holds the lock: a run
   * calls it right before COMMIT, so that it never commits once another run could have
   * taken the lock (its session was terminated, or the network dropped it).
   */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

interface HolderRow {
  pid: number;
  application_name: string;
  client_addr: string | null;
  client_port: number | null;
  backend_start: string | null;
  state: string | null;
}

const run = async <T>(client: pg.Client, s: Statement) => (await client.query(s.text, s.values)).rows as T[];

/**
 * The lock session's application_name: `label`, then the process that holds it (`pid 4242 on
 * build-7`), so that a refused run can name the holder's process and machine, not only its
 * PostgreSQL backend. The server keeps 63 bytes of it.
 *
 * @example holderName("atomic-etl:lock:1a2b3c4d") // "atomic-etl:lock:1a2b3c4d pid 4242 on build-7"
 */
export function holderName(label: string): string {
  // the host's first label: a long FQDN (ip-10-0-1-2.eu-west-1.compute.internal) would be cut by the server
  const host = os.hostname().split(".")[0] || os.hostname();
  return `${label} pid ${process.pid} on ${host}`.replace(/[^\x20-\x7e]/g, "?").slice(0, 63);
}

/** The holder's process and machine from its session's application_name ({@link holderName}); null when the URL named the session itself. */
function holderProcess(applicationName: string): { pid: number; host: string } | null {
  const m = / pid (\d+) on (\S+)$/.exec(applicationName);
  return m ? { pid: Number(m[1]), host: m[2] as string } : null;
}

function lockHeld(holder: HolderRow | undefined): EtlError {
  const client = holder?.client_addr ? `${holder.client_addr}${holder.client_port ? `:${holder.client_port}` : ""}` : "a local socket";
  const proc = holder ? holderProcess(holder.application_name) : null;
  return new EtlError(
    "LOCK_HELD",
    holder
      ? `another run holds the lock: ${proc ? `process pid ${proc.pid} on ${proc.host}, ` : ""}PostgreSQL backend pid ${holder.pid} (client ${client}, ${holder.application_name || "unknown application"}, connected ${holder.backend_start})`
      : "another run holds the lock",
    {
      step: "lock",
      next: "wait for it to finish, or pass --wait to queue behind it",
      meta: holder
        ? {
            pid: holder.pid,
            holderPid: proc?.pid ?? null,
            holderHost: proc?.host ?? null,
            clientAddress: holder.client_addr,
            clientPort: holder.client_port,
            applicationName: holder.application_name,
            backendStart: holder.backend_start,
          }
        : {},
    },
  );
}

/**
 * Takes the session-level advisory lock on its own connection, held for the whole run.
 * The server releases it if the process dies. A second run fails fast with LOCK_HELD,
 * naming the holder's backend pid and client, or waits up to `waitMs` when given.
 *
 * @example const lock = await acquireRunLock(url, "public", { applicationName: "atomic-etl:lock" });
 */
export async function acquireRunLock(url: string, schema: string, opts: { applicationName: string; waitMs?: number }): Promise<HeldLock> {
  const client = new pg.Client({ connectionString: url, application_name: opts.applicationName });
  client.on("error", () => undefined); // a dropped lock connection surfaces in the run itself
  await openOrClose(client);
  const key = lockKey(schema);
  try {
    let got: boolean;
    if (opts.waitMs && opts.waitMs > 0) {
      await run(client, sessionLockTimeout(opts.waitMs));
      got = await run(client, advisoryLock(LOCK_CLASS, key)).then(
        () => true,
        (e: { code?: string }) => {
          if (e.code === "55P03") return false;
          throw e;
        },
      );
    } else {
      got = (await run<{ ok: boolean }>(client, tryAdvisoryLock(LOCK_CLASS, key)))[0]?.ok === true;
    }
    if (!got) throw lockHeld((await run<HolderRow>(client, advisoryLockHolder(LOCK_CLASS, key)))[0]);
    const pid = (await run<{ pid: number }>(client, backendPid()))[0]?.pid ?? 0;
    return {
      pid,
      session: pgTx(client),
      async assertHeld() {
        const held = await run<{ ok: boolean }>(client, holdsAdvisoryLock(LOCK_CLASS, key)).then(
          (r) => r[0]?.ok === true,
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
          await run(client, advisoryUnlock(LOCK_CLASS, key));
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
