import { databaseIdentity } from "../sql/identity-statements.js";
import { query, type TxLike } from "./prisma-like.js";

/**
 * Which database a connection reached: the cluster (its `system_identifier`, the same on a
 * primary and its physical standbys), the database's name and its OID. Never the host or
 * credentials, so it may go in manifests, reports and logs.
 */
export interface DatabaseIdentity {
  systemIdentifier: string;
  database: string;
  oid: number;
}

/** Reads the identity of the database `db` is connected to. */
export async function readDatabaseIdentity(db: TxLike): Promise<DatabaseIdentity> {
  const [r] = await query<{ system_identifier: string; database: string; oid: string | number }>(db, databaseIdentity());
  return { systemIdentifier: String(r?.system_identifier ?? ""), database: String(r?.database ?? ""), oid: Number(r?.oid ?? 0) };
}

export function sameDatabase(a: DatabaseIdentity, b: DatabaseIdentity): boolean {
  return a.systemIdentifier === b.systemIdentifier && a.oid === b.oid && a.database === b.database;
}

/** `app (oid 16384, cluster 7301…)`, for messages. */
export function describeDatabase(d: DatabaseIdentity): string {
  return `${d.database} (oid ${d.oid}, cluster ${d.systemIdentifier})`;
}
