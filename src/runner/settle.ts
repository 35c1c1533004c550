import type { Logger } from "pino";
import { diffFingerprints, type Fingerprint, fingerprintTables } from "../db/fingerprint.js";
import { connect, pgTx } from "../db/pg-client.js";
import { isConnectionLoss } from "../db/pg-errors.js";
import { query, type TxLike } from "../db/prisma-like.js";
import { type CommitStatus, transactionOutcome } from "../db/transaction-status.js";
import { EtlError } from "../errors.js";
import type { QualifiedName } from "../sql/quote.js";
import { terminateBackend } from "../sql/session.js";
import { type RetryPolicy, withRetries } from "./retry.js";
import type { TransactionFacts } from "./transaction.js";

export interface SettleInput {
  url: string;
  /** What is known of the transaction; null when the run failed before it opened. */
  facts: TransactionFacts | null;
  before: Readonly<Record<string, Fingerprint>> | null;
  targets: readonly QualifiedName[];
  /** The run's backup, for the command an operator could run on purpose. */
  backupId: string | null;
  log: Logger;
  retry: RetryPolicy;
}

/** A warning the run reports beside its outcome. */
export interface RunWarning {
  /** CONCURRENT_CHANGES: other sessions wrote to the targets meanwhile; LEDGER_NOT_RECORDED: the run's ledger row could not be written. */
  code: "CONCURRENT_CHANGES" | "LEDGER_NOT_RECORDED";
  message: string;
  tables: string[];
  next: string;
}

export interface Settled {
  error: EtlError;
  /** The failure turned out to be a COMMIT that landed: a success. */
  committed: boolean;
  warnings: RunWarning[];
}

/**
 * After a failure: what happened to the data, proven. The rollback belongs to Postgres, so
 * it is confirmed, never assumed and never "repaired":
 *
 * 1. Before the transaction opened, nothing of the run touched the targets (`untouched`).
 * 2. Otherwise the transaction's fate is read with pg_xact_status: `committed` (a COMMIT
 *    whose answer was lost) is a success; `in progress` before COMMIT was sent means the
 *    server has not noticed yet, so the run ends its own backend and reads again; still
 *    unresolved is `unknown` — never restored over, as the COMMIT may yet land. No txid
 *    means none was ever assigned: nothing was written.
 * 3. After a confirmed abort the run left nothing behind. The targets are fingerprinted:
 *    equal to before is `rolled back; database unchanged`; different means other sessions
 *    committed writes meanwhile — kept, and reported as CONCURRENT_CHANGES with the restore
 *    command an operator could run on purpose. The backup is never restored automatically:
 *    nothing of a rolled-back run can survive for it to undo.
 */
export async function settle(error: EtlError, s: SettleInput): Promise<Settled> {
  const done = (e: EtlError, warnings: RunWarning[] = []): Settled => ({ error: e, committed: false, warnings });
  if (!s.facts?.started || !s.before) return done(error.with({ data: "untouched" }));
  const facts = s.facts;
  let conn: Awaited<ReturnType<typeof connect>> | null = null;
  try {
    // a server that is restarting gets the same patience as the transaction did
    conn = await withRetries(
      s.retry,
      () => connect(s.url, "atomic-etl:verify"),
      (e) => isConnectionLoss(e),
    );
    const db = pgTx(conn);
    const status = facts.txid ? await fateOf(db, facts) : "aborted";
    s.log.info({ phase: "verify", txid: facts.txid, status }, "resolved transaction status");
    if (status === "committed") {
      const e = new EtlError(
        "COMMIT_IN_DOUBT",
        `the connection was lost while COMMIT was in flight; transaction ${facts.txid} did commit`,
        {
          step: "commit",
          data: "committed",
          cause: error,
          meta: { txid: facts.txid },
        },
      );
      return { error: e, committed: true, warnings: [] };
    }
    if (status !== "aborted") return done(unresolved(error, facts, status));
    const changed = diffFingerprints(s.before, await fingerprintTables(db, s.targets, s.before));
    s.log.info({ phase: "verify", tables: s.targets.length, changed: changed.length }, "post-rollback proof");
    if (changed.length === 0) return done(error.with({ data: "rolled back; database unchanged", meta: { transactionStatus: status } }));
    const warning = concurrentChanges(changed, s.backupId);
    s.log.warn({ phase: "verify", code: warning.code, tables: changed }, warning.message);
    return done(
      error.with({ data: "rolled back; concurrent changes kept", meta: { transactionStatus: status, concurrentChanges: changed } }),
      [warning],
    );
  } catch (e) {
    const next = `could not verify the database after the failure (${(e as Error).message}); check the targets by hand${s.backupId ? ` or run: atomic-etl restore ${s.backupId}` : ""}`;
    return done(error.with({ data: "unknown", next }));
  } finally {
    await conn?.end().catch(() => undefined);
  }
}

/** pg_xact_status of the run's transaction; a transaction still running before COMMIT was sent is ended first. */
async function fateOf(db: TxLike, facts: TransactionFacts): Promise<CommitStatus> {
  const txid = facts.txid as string;
  const status = await transactionOutcome(db, txid, { timeoutMs: facts.commitSent ? 30_000 : 2_000 });
  if (status !== "in progress" || facts.commitSent || facts.backendPid === null) return status;
  // our own backend, holding our transaction open although its client has gone: end it, so it can only abort
  await query(db, terminateBackend(facts.backendPid));
  return transactionOutcome(db, txid, { timeoutMs: 30_000 });
}

function unresolved(error: EtlError, facts: TransactionFacts, status: CommitStatus): EtlError {
  const where = `transaction ${facts.txid} is ${status === "unknown" ? "of unknown status" : "still in progress"} on the server`;
  const next = `${where}: do not restore; run SELECT pg_xact_status('${facts.txid}'::xid8) until it says committed or aborted`;
  if (facts.commitSent) return error.with({ data: "unknown", next, meta: { transactionStatus: status } });
  return new EtlError("ROLLBACK_NOT_PROVEN", `after the failure, ${where}, so the rollback cannot be confirmed`, {
    runId: error.runId,
    step: "verify",
    data: "unknown",
    cause: error,
    next,
    meta: { transactionStatus: status, txid: facts.txid },
  });
}

function concurrentChanges(tables: string[], backupId: string | null): RunWarning {
  return {
    code: "CONCURRENT_CHANGES",
    message: `the run was rolled back (confirmed by the server), but ${tables.join(", ")} changed meanwhile: other sessions committed writes there between the run's fingerprint and its end; they are kept`,
    tables,
    next: backupId
      ? `nothing to do if those writes are wanted; to return ${tables.join(", ")} to their state before the run (discarding those writes): atomic-etl restore ${backupId}`
      : `nothing to do if those writes are wanted; there is no backup of the state before the run`,
  };
}
