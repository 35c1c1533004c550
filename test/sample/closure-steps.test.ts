import { describe, expect, it } from "vitest";
import { type ClosureStats, runSteps, type Step } from "../../src/sample/closure.js";
import { RowSet } from "../../src/sample/row-set.js";

const stats = (): ClosureStats => ({ rounds: 0, queries: 0, durationMs: 0 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A step whose statement text names the ids it returns, in chunks of two. */
const step = (into: RowSet, reason: string, ids: string[]): Step => ({ s: { text: JSON.stringify(ids), values: [] }, into, reason });

/** A reader that answers the earlier steps last: step k waits (n - k) × 5 ms per chunk. */
function reversedReader(steps: readonly Step[], started: string[] = []) {
  return async function* (_client: number, s: { text: string }) {
    const k = steps.findIndex((x) => x.s.text === s.text);
    started.push(s.text);
    const ids = JSON.parse(s.text) as string[];
    for (let i = 0; i < ids.length; i += 2) {
      await sleep((steps.length - k) * 5);
      yield ids.slice(i, i + 2);
    }
  };
}

describe("runSteps", () => {
  it("should give the sets and pulledBy counts of running the steps one by one, whichever connection answers first", async () => {
    const make = () => {
      const a = new RowSet();
      const b = new RowSet();
      return {
        a,
        b,
        steps: [
          step(a, "root", ["(0,1)", "(0,2)", "(0,3)"]),
          step(b, "root", ["(0,9)"]),
          step(a, "parent via fk1", ["(0,2)", "(0,3)", "(0,4)"]),
          step(a, "parent via fk2", ["(0,4)", "(0,5)"]),
        ],
      };
    };
    const one = make();
    await runSteps([1], one.steps, reversedReader(one.steps), stats());
    const four = make();
    const s = stats();
    await runSteps([1, 2, 3, 4], four.steps, reversedReader(four.steps), s);
    expect(Object.fromEntries(four.a.pulledBy)).toEqual({ root: 3, "parent via fk1": 1, "parent via fk2": 1 });
    expect(Object.fromEntries(four.a.pulledBy)).toEqual(Object.fromEntries(one.a.pulledBy));
    expect([four.a.size, four.b.size]).toEqual([5, 1]);
    expect(s.queries).toBe(4);
  });

  it("should start no step after a failure, stop the running ones, and throw the failure", async () => {
    const a = new RowSet();
    const steps = [
      step(a, "root", ["(0,1)", "(0,2)", "(0,3)", "(0,4)", "(0,5)", "(0,6)"]),
      step(a, "boom", []),
      step(a, "late", ["(0,7)"]),
    ];
    const started: string[] = [];
    let chunksAfterFailure = 0;
    let failed = false;
    const read = async function* (_client: number, s: { text: string }) {
      started.push(s.text);
      if (s.text === steps[1]?.s.text) {
        await sleep(5);
        failed = true;
        throw new Error("division by zero");
      }
      for (const id of JSON.parse(s.text) as string[]) {
        await sleep(10);
        if (failed) chunksAfterFailure++;
        yield [id];
      }
    };
    await expect(runSteps([1, 2], steps, read, stats())).rejects.toThrow("division by zero");
    expect(started).not.toContain(steps[2]?.s.text);
    // the running step read at most the chunk it was waiting for
    expect(chunksAfterFailure).toBeLessThanOrEqual(1);
    expect(a.pulledBy.get("late")).toBeUndefined();
  });
});
