/**
 * The retry policy of src/runner/retry.ts on its own: backoff bounds, what is retried, and
 * how often. (Lives here rather than in test/runner, which another engineer owns.)
 */
import { describe, expect, it } from "vitest";
import { EtlError } from "../../src/errors.js";
import { backoffDelay, isRetryable, type RetryPolicy, withRetries } from "../../src/runner/retry.js";

const policy: RetryPolicy = { retries: 2, baseDelayMs: 1_000, maxDelayMs: 3_000 };

describe("backoffDelay", () => {
  it("should double the step per retry, with half of it jittered", () => {
    expect([1, 2].map((n) => backoffDelay(n, policy, () => 0))).toEqual([500, 1_000]);
    expect([1, 2].map((n) => backoffDelay(n, policy, () => 0.999_999))).toEqual([1_000, 2_000]);
  });

  it("should never wait longer than maxDelayMs", () => {
    expect(backoffDelay(10, policy, () => 0.999_999)).toBe(3_000);
  });
});

describe("isRetryable", () => {
  it("should retry only a connection lost before COMMIT was sent", () => {
    expect(isRetryable(new EtlError("CONNECTION_LOST", "gone"), false)).toBe(true);
    expect(isRetryable(new EtlError("CONNECTION_LOST", "gone"), true)).toBe(false);
    expect(isRetryable(new EtlError("COMMIT_IN_DOUBT", "gone"), true)).toBe(false);
    for (const code of ["STATEMENT_TIMEOUT", "TRANSACTION_TIMEOUT", "VALIDATION_FAILED", "LOCK_HELD", "SQL_ERROR"] as const) {
      expect(isRetryable(new EtlError(code, "no"), false)).toBe(false);
    }
  });
});

describe("withRetries", () => {
  const noSleep = async () => undefined;

  it("should call again after a retryable failure and resolve with the first success", async () => {
    const attempts: number[] = [];
    const waits: number[] = [];
    const r = await withRetries(
      policy,
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw new Error("dropped");
        return "ok";
      },
      () => true,
      (_e, _attempt, delayMs) => waits.push(delayMs),
      noSleep,
    );
    expect(r).toBe("ok");
    expect(attempts).toEqual([1, 2, 3]);
    expect(waits).toHaveLength(2);
  });

  it("should give up with the last error once the retries are used up", async () => {
    let calls = 0;
    const run = withRetries(
      policy,
      async () => {
        calls++;
        throw new Error(`dropped ${calls}`);
      },
      () => true,
      undefined,
      noSleep,
    );
    await expect(run).rejects.toThrow("dropped 3");
    expect(calls).toBe(3);
  });

  it("should not call again after a failure that is not retryable", async () => {
    let calls = 0;
    const run = withRetries(
      policy,
      async () => {
        calls++;
        throw new Error("bad data");
      },
      () => false,
      undefined,
      noSleep,
    );
    await expect(run).rejects.toThrow("bad data");
    expect(calls).toBe(1);
  });
});
