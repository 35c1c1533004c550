import { query, type TxLike } from "../db/prisma-like.js";
import { historyRows, lastCommitted, restoreSince } from "../sql/ledger.js";
import type { Statement } from "../sql/statement.js";
import { fromColumns, type LedgerRow } from "./ledger-row.js";
import { readVersion } from "./ledger-schema.js";

/** Reads of the ledger. None creates it: without a ledger there is nothing to read (null or []). */

async function rows(db: TxLike, schema: string, s: Statement): Promise<LedgerRow[]> {
  if ((await readVersion(db, schema)) === 0) return [];
  return (await query<{ row: Record<string, unknown> }>(db, s)).map((r) => fromColumns(r.row));
}

/** The last committed import of `release` into this environment's targets. */
export async function readLastCommitted(
  db: TxLike,
  schema: string,
  where: { environment: string; release: string; targetSchema: string },
): Promise<LedgerRow | null> {
  return (await rows(db, schema, lastCommitted(schema, where.environment, where.release, where.targetSchema)))[0] ?? null;
}

/** Newest first, optionally of one release. */
export function readHistory(
  db: TxLike,
  schema: string,
  where: { environment: string; release: string | null; limit: number },
): Promise<LedgerRow[]> {
  return rows(db, schema, historyRows(schema, where.environment, where.release, where.limit));
}

/** The newest committed restore of the environment's targets after `since`. */
export async function readRestoreSince(
  db: TxLike,
  schema: string,
  where: { environment: string; targetSchema: string; since: string },
): Promise<LedgerRow | null> {
  return (await rows(db, schema, restoreSince(schema, where.environment, where.targetSchema, where.since)))[0] ?? null;
}
