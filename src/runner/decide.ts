import type { Logger } from "pino";
import { markCommitting } from "../backup/manifest.js";
import type { HeldLock } from "../db/advisory-lock.js";
import type { Fingerprint } from "../db/fingerprint.js";
import { execute, type TxLike } from "../db/prisma-like.js";
import type { FinalPhasePlan } from "../plan/final-phase.js";
import type { TableReport } from "../reporting/report.js";
import type { Statement } from "../sql/statement.js";
import type { CheckResult } from "../validation/user-checks.js";
import { stopIfAsked } from "./interrupted.js";
import type { TransactionFacts } from "./transaction.js";

/** What a plan found, carried out of its transaction by the ROLLBACK that ends it. */
export interface PlanResult {
  txid: string;
  strategy: string;
  tables: TableReport[];
  checks: CheckResult[];
  /** The targets' fingerprints in the plan's snapshot (what its hash covers). */
  before: Readonly<Record<string, Fingerprint>>;
  finalPhase: FinalPhasePlan[];
  notes: string[];
}

/**
 * A plan's normal end: thrown by the commit gate so that Prisma rolls the transaction back,
 * and turned into a success report by the runner. Not an error.
 */
export class PlannedRollback extends Error {
  constructor(readonly result: PlanResult) {
    super("rolled back on purpose: a plan never commits");
  }
}

/** What the gate does: roll a plan back, or write an import's ledger row and let COMMIT go. */
export type Gate =
  | { mode: "plan"; result: PlanResult }
  | {
      mode: "import";
      ledger: Statement;
      lock: HeldLock;
      /** The backup's manifest: it learns the txid first, so a run killed after COMMIT is resolved later. */
      backupManifest: string | null;
    };

/**
 * The commit gate, the one place a run decides to COMMIT.
 *
 * - A stop request is honoured here for the last time.
 * - A plan ends here in ROLLBACK, as its normal outcome ({@link PlannedRollback}).
 * - An import writes its ledger row first, in the same transaction as the data, so the two
 *   commit together or not at all; that INSERT also proves the transaction's own connection
 *   still answers (a server that is gone is CONNECTION_LOST, not a lost lock). Then the run
 *   lock must still be held (else LOCK_LOST: another run may have started), and the backup's
 *   manifest records the transaction id. From the moment this returns, COMMIT is in flight:
 *   a failure after it is resolved with pg_xact_status, never guessed.
 */
export async function decideCommit(
  tx: TxLike,
  facts: TransactionFacts,
  log: Logger,
  gate: Gate,
  signal: AbortSignal | undefined,
): Promise<void> {
  stopIfAsked(signal, "commit");
  if (gate.mode === "plan") {
    log.info({ phase: "commit", txid: facts.txid }, "rolling back: a plan never commits");
    throw new PlannedRollback(gate.result);
  }
  await execute(tx, gate.ledger);
  log.info({ phase: "commit", txid: facts.txid }, "ledger row written");
  await gate.lock.assertHeld();
  if (gate.backupManifest && facts.txid) await markCommitting(gate.backupManifest, facts.txid);
  log.info({ phase: "commit", txid: facts.txid }, "sending COMMIT");
  facts.commitSent = true;
}
