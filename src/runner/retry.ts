/**
 * Recovering from a lost connection. Two rules keep it safe:
 *
 * - Only a transaction whose COMMIT was never sent is re-run, and always whole, from its
 *   first statement: the server rolled it back when the connection died, so the database
 *   is as before. A statement inside a transaction is never retried.
 * - A COMMIT that was in flight is never re-run: its outcome is read back with
 *   `pg_xact_status(txid)`, waiting while the server still has it in progress.
 */
import type { EtlError } from "../errors.js";

export interface RetryPolicy {
  /** Re-runs after the first attempt (0 = never retry). */
  retries: number;
  /** Backoff base: the n-th retry waits between base·2ⁿ⁻¹/2 and base·2ⁿ⁻¹ ms. */
  baseDelayMs: number;
  /** Upper bound of one wait. */
  maxDelayMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so runs
 * that lost the same server do not come back in lockstep, and no wait is ~0.
 *
 * @example backoffDelay(1, { retries: 2, baseDelayMs: 1000, maxDelayMs: 30_000 }) // 500–1000
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * May the whole transaction be re-run after `error`? Only a lost connection (or a server
 * that went away) before COMMIT was sent; everything else is deterministic and would fail again.
 */
export function isRetryable(error: EtlError, commitSent: boolean): boolean {
  return error.code === "CONNECTION_LOST" && !commitSent;
}

/** One retried failure, as the run report shows it. */
export interface RetryRecord {
  /** The attempt that failed (1 = the first run). */
  attempt: number;
  code: string;
  message: string;
  /** Wait before the next attempt. */
  delayMs: number;
}

/**
 * Calls `fn` until it succeeds, `shouldRetry` says no, or the policy's retries are used up;
 * waits {@link backoffDelay} between attempts. Rejects with the last error.
 *
 * @example await withRetries(policy, (attempt) => connect(url), (e) => isConnectionLoss(e));
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  fn: (attempt: number) => Promise<T>,
  shouldRetry: (error: unknown, attempt: number) => boolean | Promise<boolean>,
  onRetry: (error: unknown, attempt: number, delayMs: number) => void = () => undefined,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt > policy.retries || !(await shouldRetry(e, attempt))) throw e;
      const delayMs = backoffDelay(attempt, policy);
      onRetry(e, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}
