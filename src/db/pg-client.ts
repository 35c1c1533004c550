import pg from "pg";
import type { TxLike } from "./prisma-like.js";

/**
 * Adapts a node-postgres client to {@link TxLike}, so the same SQL helpers serve both.
 * Queries run one after another, as on a Prisma transaction: callers may `Promise.all` them.
 */
export function pgTx(client: pg.Client | pg.PoolClient): TxLike {
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = tail.then(fn, fn);
    tail = p.catch(() => undefined);
    return p;
  };
  return {
    async $executeRawUnsafe(text: string, ...values: unknown[]) {
      return (await serial(() => client.query(text, values))).rowCount ?? 0;
    },
    async $queryRawUnsafe<T>(text: string, ...values: unknown[]) {
      return (await serial(() => client.query(text, values))).rows as T;
    },
  };
}

/** Opens a plain connection (for the lock, snapshots and proofs outside the Prisma transaction); `applicationName` names it unless the URL already does. */
export async function connect(url: string, applicationName = "atomic-etl"): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, application_name: applicationName });
  c.on("error", () => undefined);
  await openOrClose(c);
  return c;
}

/**
 * Connects, and on failure closes the socket: a refused SCRAM handshake (no password given)
 * otherwise stays open until the server's authentication_timeout, 60 s, keeping the process alive.
 */
export async function openOrClose(c: pg.Client): Promise<void> {
  try {
    await c.connect();
  } catch (e) {
    await c.end().catch(() => undefined);
    throw e;
  }
}
