import type { Logger } from "pino";
import type { HeldLock } from "../db/advisory-lock.js";
import { query, type TxLike } from "../db/prisma-like.js";
import { ping } from "../sql/session.js";
import { stopIfAsked } from "./interrupted.js";
import type { TransactionFacts } from "./transaction.js";

/**
 * The commit gate, the one place a run decides to COMMIT. The transaction's own connection
 * is probed first (a server that is gone is CONNECTION_LOST, not a lost lock), then the run
 * lock must still be held (else LOCK_LOST: another run may have started). From the moment
 * this returns, COMMIT is in flight: a failure after it is resolved with pg_xact_status,
 * never guessed.
 */
export async function decideCommit(tx: TxLike, lock: HeldLock, facts: TransactionFacts, log: Logger, signal?: AbortSignal): Promise<void> {
  // the last safe point: once COMMIT is sent, a stop request waits for its outcome
  stopIfAsked(signal, "commit");
  await query(tx, ping());
  await lock.assertHeld();
  log.info({ phase: "commit", txid: facts.txid }, "sending COMMIT");
  facts.commitSent = true;
}
