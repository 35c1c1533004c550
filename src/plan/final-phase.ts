import type { FinalLock } from "../strategies/strategy.js";
import type { PlannedTable } from "./planned-table.js";

/** A strategy's final phase as a plan reports it: its lock, who waits, and for about how long. */
export interface FinalPhasePlan extends FinalLock {
  /** Who waits on the lock, in words. */
  blocks: string;
  /** Estimated time the lock is held, from this plan's own measurements. */
  estimatedMs: number;
  /** What the estimate is made of. */
  basis: string;
}

/** What a plan measured while it loaded staging. */
export interface PlanMeasurements {
  /** Per table: the planned changes and how long its load took. */
  tables: readonly { table: string; planned: PlannedTable; loadMs: number }[];
  /** Server time per row inserting into staging, over the whole release. */
  msPerRow: number;
  /** One round trip to the server. */
  roundTripMs: number;
}

function blocks(lock: FinalLock): string {
  if (lock.mode === "ROW EXCLUSIVE")
    return "readers never wait; writers of the rows it deletes or updates wait until COMMIT (row locks), other writers do not";
  const until =
    lock.held === "whole run"
      ? "from the clear to COMMIT"
      : lock.held === "rename"
        ? "for the rename, until COMMIT"
        : "during the final phase, until COMMIT";
  return `readers and writers wait ${until}`;
}

/**
 * Estimates how long the final phase holds its lock: `direct` holds it for the whole load
 * (this plan's load into staging stands for it); a staged final phase writes its rows at the
 * per-row cost this plan measured loading staging; `swap` renames in one round trip.
 *
 * @example estimateFinalPhase(lock, { tables, msPerRow: 0.02, roundTripMs: 0.4 })
 */
export function estimateFinalPhase(lock: FinalLock, m: PlanMeasurements): FinalPhasePlan {
  const mine = m.tables.filter((t) => lock.tables.includes(t.table));
  let estimatedMs: number;
  let basis: string;
  if (lock.held === "whole run") {
    estimatedMs = mine.reduce((a, t) => a + t.loadMs, 0);
    basis = "this plan's load of the same rows: direct loads while it holds the lock (its index rebuild comes on top)";
  } else if (lock.held === "rename") {
    estimatedMs = m.roundTripMs;
    basis = "one round trip (drop and rename in one statement), measured";
  } else {
    const rows = mine.reduce((a, t) => a + t.planned.writes.inserted + t.planned.writes.updated + (t.planned.writes.deleted ?? 0), 0);
    estimatedMs = rows * m.msPerRow;
    basis = `${rows} rows written × ${(m.msPerRow * 1000).toFixed(1)} µs/row (this plan's load into staging)`;
  }
  return { ...lock, blocks: blocks(lock), estimatedMs: Math.round(estimatedMs), basis };
}
