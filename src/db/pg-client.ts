import pg from "pg";
import type { TxLike } from "./prisma-like.js";

/** Adapts a node-postgres client to {@link TxLike}, so the same SQL helpers serve both. */
export function pgTx(client: pg.Client | pg.PoolClient): TxLike {
  return {
    async $executeRawUnsafe(text: string, ...values: unknown[]) {
      return (await client.query(text, values)).rowCount ?? 0;
    },
    async $queryRawUnsafe<T>(text: string, ...values: unknown[]) {
      return (await client.query(text, values)).rows as T;
    },
  };
}

/** Opens a plain connection (for the lock, snapshots and proofs outside the Prisma transaction). */
export async function connect(url: string, applicationName = "atomic-etl"): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, application_name: applicationName });
  c.on("error", () => undefined);
  await c.connect();
  return c;
}
