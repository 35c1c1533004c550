import { z } from "zod";
import { databaseIdentity } from "../sql/identity-statements.js";
import { connect, pgTx } from "./pg-client.js";
import { query, type TxLike } from "./prisma-like.js";

/**
 * Which database a backup, a restore or a run is about: the cluster's system identifier, the
 * database's name and its OID. Never a host, port, user or password.
 *
 * Two connections reach the same database exactly when all three are equal. A physical copy of
 * a cluster (a promoted replica, a pg_basebackup or file-system snapshot clone) keeps the
 * system identifier and the OIDs, and so counts as the same database; a database dropped and
 * created again under the same name, a `CREATE DATABASE … TEMPLATE` copy, a dump/restore into
 * a new cluster or a pg_upgrade (a new cluster) count as another one.
 */
export interface DatabaseIdentity {
  /** `pg_control_system().system_identifier`, as decimal text (it is a 64-bit number). */
  systemIdentifier: string;
  /** `current_database()`. */
  database: string;
  /** `pg_database.oid`. */
  oid: number;
}

export const databaseIdentitySchema = z.strictObject({
  systemIdentifier: z.string().regex(/^\d+$/),
  database: z.string(),
  oid: z.number().int().positive(),
});

/**
 * Reads the identity of the database `db` is connected to (a Prisma transaction, a pg client
 * through `pgTx`, or a psql session).
 *
 * @example const id = await readDatabaseIdentity(pgTx(client)) // => { systemIdentifier: "7301…", database: "app", oid: 16384 }
 */
export async function readDatabaseIdentity(db: TxLike): Promise<DatabaseIdentity> {
  const [row] = await query<{ system_identifier: string; database: string; oid: string }>(db, databaseIdentity());
  if (!row) throw new Error("the server returned no row for the database identity");
  return databaseIdentitySchema.parse({ systemIdentifier: String(row.system_identifier), database: row.database, oid: Number(row.oid) });
}

/**
 * True when both name the same database; an unknown identity (a manifest of format 1) is never
 * the same as anything.
 *
 * @example sameDatabase(a, { ...a }) // => true
 */
export function sameDatabase(a: DatabaseIdentity | null | undefined, b: DatabaseIdentity | null | undefined): boolean {
  return !!a && !!b && a.systemIdentifier === b.systemIdentifier && a.oid === b.oid && a.database === b.database;
}

/**
 * A short printable form for messages and listings.
 *
 * @example formatIdentity({ systemIdentifier: "7301234567890123456", database: "app", oid: 16384 }) // => 'app (oid 16384, system 7301234567890123456)'
 */
export function formatIdentity(id: DatabaseIdentity): string {
  return `${id.database} (oid ${id.oid}, system ${id.systemIdentifier})`;
}

/** The identity of the database `url` reaches, on a short-lived connection. */
export async function identityOf(url: string): Promise<DatabaseIdentity> {
  const client = await connect(url, "atomic-etl:identity");
  try {
    return await readDatabaseIdentity(pgTx(client));
  } finally {
    await client.end().catch(() => undefined);
  }
}
