import { transactionStatus } from "../sql/session.js";
import { query, type TxLike } from "./prisma-like.js";

export type CommitStatus = "committed" | "aborted" | "in progress" | "unknown";

/**
 * The outcome of transaction `txid`, read with `pg_xact_status` on another connection.
 * "in progress" is polled until it changes or `timeoutMs` passes: a COMMIT that reached the
 * server may still be running (deferred triggers, a synchronous standby), and declaring it
 * rolled back before it ends would be a lie.
 *
 * @example await transactionOutcome(pgTx(conn), "1234") // "committed"
 */
export async function transactionOutcome(
  db: TxLike,
  txid: string,
  opts: { timeoutMs: number; pollMs?: number } = { timeoutMs: 30_000 },
): Promise<CommitStatus> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    let status: string | null;
    try {
      const [row] = await query<{ status: string | null }>(db, transactionStatus(txid));
      status = row?.status ?? null;
    } catch (e) {
      // The server handed this xid out, so "in the future" means it restarted and kept no WAL
      // of the transaction: a commit record would have been replayed. It did not commit.
      if (/is in the future/.test((e as Error).message)) return "aborted";
      throw e;
    }
    if (status === "committed" || status === "aborted") return status;
    if (status !== "in progress") return "unknown";
    if (Date.now() >= deadline) return "in progress";
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
  }
}
