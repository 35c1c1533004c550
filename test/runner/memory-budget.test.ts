import { describe, expect, it } from "vitest";
import { MemoryBudget, type MemoryProbe } from "../../src/runner/memory-budget.js";

const MB = 1024 * 1024;

/** A process whose RSS follows a script: each check reads the next value; a GC drops it to `afterGc`. */
function scripted(readings: number[], afterGc: number) {
  const seen: string[] = [];
  let next = 0;
  let current = 0;
  const probe: MemoryProbe = {
    rss: () => {
      current = (readings[next++] ?? current / MB) * MB;
      return current;
    },
    gc: () => {
      seen.push(`gc@${current / MB}`);
      readings.splice(next, 0, afterGc);
    },
  };
  return { probe, seen };
}

describe("MemoryBudget", () => {
  it("should collect once RSS passes the budget less its margin, and not before", () => {
    // budget 240 MB: margin 40 MB, trigger 200 MB
    const { probe, seen } = scripted([150, 170, 190, 199, 210, 180, 205], 160);
    const b = new MemoryBudget(240, probe);
    for (let i = 0; i < 8; i++) b.check();
    expect(seen).toEqual(["gc@210", "gc@205"]);
    expect(b.stats.collections).toBe(2);
  });

  it("should wait a margin of growth above the lowest RSS since the last GC when the floor is above the budget", () => {
    // the process alone needs ~300 MB: a GC per batch would gain nothing
    const { probe, seen } = scripted([300, 310, 320, 315, 319, 345], 300);
    const b = new MemoryBudget(120, probe);
    for (let i = 0; i < 8; i++) b.check();
    // collect 16 MB above the floor (300): 310 and 315 are within it, 320, 319 and 345 are not
    expect(seen).toEqual(["gc@320", "gc@319", "gc@345"]);
  });

  it("should never collect with a budget of 0", () => {
    const { probe, seen } = scripted([100, 900, 5000], 50);
    const b = new MemoryBudget(0, probe);
    for (let i = 0; i < 3; i++) b.check();
    expect(seen).toEqual([]);
  });
});
