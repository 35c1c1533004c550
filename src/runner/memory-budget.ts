/**
 * Keeps the importing process's resident memory near a budget (`memoryBudgetMb`).
 *
 * Every batch leaves a few large strings behind (the JSON payload and Prisma's and pg's
 * copies of it). V8 puts strings over 128 KB in its large-object space, which only a full
 * GC frees, and on a machine with plenty of RAM it lets that space grow to several hundred
 * MB before collecting (measured: 400-550 MB peak RSS at 1M rows, with ~50 MB live). So
 * after a batch, when RSS is above the trigger, the budget runs a full GC (~30 ms with a
 * ~50 MB live heap). The trigger sits a margin (a sixth of the budget) under the budget, but
 * at least 16 MB above the lowest RSS seen since the last GC (V8 hands pages back in the
 * background, so the reading right after a GC is too high), so a budget below the process's
 * own floor costs one GC per 16 MB of growth, not one per batch.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export interface MemoryBudgetStats {
  /** Full GCs run to stay within the budget. */
  collections: number;
  gcMs: number;
}

export interface MemoryProbe {
  rss(): number;
  gc(): void;
}

let exposedGc: (() => void) | null = null;

/** `global.gc` without `--expose-gc` on the command line (the way jest's leak detector does it). */
function fullGc(): void {
  if (!exposedGc) {
    setFlagsFromString("--expose-gc");
    exposedGc = runInNewContext("gc") as () => void;
  }
  exposedGc();
}

const processProbe: MemoryProbe = { rss: () => process.memoryUsage.rss(), gc: fullGc };

const MB = 1024 * 1024;
/** The least growth between two GCs, whatever the budget. */
const MIN_GROWTH = 16 * MB;

export class MemoryBudget {
  readonly stats: MemoryBudgetStats = { collections: 0, gcMs: 0 };
  /** Lowest RSS seen since the last GC; null right after one. */
  private floor: number | null = null;
  private readonly budget: number;
  private readonly margin: number;

  /** `budgetMb` 0 leaves collection to V8. */
  constructor(
    budgetMb: number,
    private readonly probe: MemoryProbe = processProbe,
  ) {
    this.budget = budgetMb * MB;
    // room for a batch cycle's garbage between two checks
    this.margin = Math.round(this.budget / 6);
  }

  /** Call between batches. */
  check(): void {
    if (this.budget === 0) return;
    const rss = this.probe.rss();
    if (this.floor === null) {
      this.floor = rss;
      return;
    }
    this.floor = Math.min(this.floor, rss);
    if (rss <= Math.max(this.budget - this.margin, this.floor + MIN_GROWTH)) return;
    const started = performance.now();
    this.probe.gc();
    this.stats.collections++;
    this.stats.gcMs += performance.now() - started;
    this.floor = null;
  }
}
