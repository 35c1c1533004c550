import type { Logger } from "pino";
import { markCommitting } from "../backup/manifest.js";
import type { HeldLock } from "../db/advisory-lock.js";
import { query, type TxLike } from "../db/prisma-like.js";
import { ping } from "../sql/session.js";
import { stopIfAsked } from "./interrupted.js";
import type { TransactionFacts } from "./transaction.js";

export interface CommitGate {
  lock: HeldLock;
  facts: TransactionFacts;
  log: Logger;
  signal?: AbortSignal;
  /** The backup's manifest: it learns the txid first, so a run killed after COMMIT is resolved later. */
  backupManifest: string | null;
}

/**
 * The commit gate, the one place a run decides to COMMIT. A stop request is honoured here for
 * the last time; the transaction's own connection is probed (a server that is gone is
 * CONNECTION_LOST, not a lost lock); the run lock must still be held (else LOCK_LOST: another
 * run may have started); the backup's manifest records the transaction id. From the moment
 * this returns, COMMIT is in flight: a failure after it is resolved with pg_xact_status, never
 * guessed.
 */
export async function decideCommit(tx: TxLike, g: CommitGate): Promise<void> {
  stopIfAsked(g.signal, "commit");
  await query(tx, ping());
  await g.lock.assertHeld();
  if (g.backupManifest && g.facts.txid) await markCommitting(g.backupManifest, g.facts.txid);
  g.log.info({ phase: "commit", txid: g.facts.txid }, "sending COMMIT");
  g.facts.commitSent = true;
}
