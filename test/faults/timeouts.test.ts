/**
 * statement_timeout and the transaction timeout hit mid-load: everything rolls back, the
 * codes are STATEMENT_TIMEOUT / TRANSACTION_TIMEOUT (exit 8), and neither is retried.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunFailed } from "../../src/atomic-etl.js";
import { useTestDatabase } from "../fixtures/core/kit.js";
import { captureState, stateDiff } from "./support/db-state.js";
import { type FaultBench, openBench, other } from "./support/fault-bench.js";
import { SMALL } from "./support/release-fixture.js";

/** The bench's database for the file (the bench drops it on close; the fixture's drop is then a no-op). */
const database = useTestDatabase({ seed: false, scope: "suite" });
let bench: FaultBench;

beforeAll(async () => {
  bench = await openBench({ size: SMALL, batchSize: 5, database });
}, 180_000);
afterAll(() => bench?.close());

async function expectFailure(p: Promise<unknown>): Promise<RunFailed> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  if (!(e instanceof RunFailed)) throw new Error(`expected RunFailed, got ${String(e)}`);
  return e;
}

describe("timeouts mid-load", () => {
  it("should roll everything back with STATEMENT_TIMEOUT when a statement outlives statement_timeout", async () => {
    const before = bench.current;
    const e = await expectFailure(
      bench.etl({ local: { statementTimeoutMs: 300, retries: 2, retryDelayMs: 10 } }).import({
        release: other(before),
        url: bench.url,
        hooks: {
          afterBatch: async ({ table, batch, tx }) => {
            if (table === "players" && batch === 2) await tx.$queryRawUnsafe("SELECT pg_sleep(3)");
          },
        },
      }),
    );
    expect(e.error.code).toBe("STATEMENT_TIMEOUT");
    expect(e.error.message).toContain("statement_timeout");
    expect(e.exitCode).toBe(8);
    expect(e.error.data).toBe("rolled back; database unchanged");
    expect(e.report.attempts).toBe(1);
    expect(stateDiff(await captureState(bench.url), bench.states[before])).toEqual([]);
  });

  it("should roll everything back with TRANSACTION_TIMEOUT when the load outlives the transaction timeout", async () => {
    const before = bench.current;
    const e = await expectFailure(
      bench.etl({ local: { transactionTimeoutMs: 1_000, retries: 2, retryDelayMs: 10 } }).import({
        release: other(before),
        url: bench.url,
        hooks: {
          afterBatch: async ({ table, batch }) => {
            if (table === "players" && batch === 2) await new Promise((r) => setTimeout(r, 1_500));
          },
        },
      }),
    );
    expect(e.error.code).toBe("TRANSACTION_TIMEOUT");
    expect(e.error.message).toContain("timed out");
    expect(e.exitCode).toBe(8);
    expect(e.error.data).toBe("rolled back; database unchanged");
    expect(e.report.attempts).toBe(1);
    expect(stateDiff(await captureState(bench.url), bench.states[before])).toEqual([]);
  });
});
