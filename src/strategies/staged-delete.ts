import { refuseOutsideReferences } from "./outside-references.js";
import { replaceByDelete, type StagedPlan, stagedStrategy } from "./staged.js";
import { infosOf, type Strategy } from "./strategy.js";

/**
 * `staged-delete`: load into TEMP staging while the targets stay untouched; the final phase
 * is `DELETE FROM target; INSERT … SELECT` per table (children deleted first, parents
 * inserted first). Only ROW EXCLUSIVE locks: readers are never blocked and see the old rows
 * until COMMIT, then the new ones (MVCC-safe at every isolation level).
 */
export const stagedDeleteStrategy = (): Strategy => stagedStrategy(stagedDeletePlan());

/** What sets staged-delete apart (a plan runs its refusals and reports its locks). */
export function stagedDeletePlan(): StagedPlan {
  return {
    name: "staged-delete",
    canFallBack: true,
    refuse: (ctx) => refuseOutsideReferences(ctx, "staged-delete", { truncate: false }),
    locks: (ctx) => ({ tables: infosOf(ctx), mode: "ROW EXCLUSIVE" }),
    apply: replaceByDelete,
  };
}
