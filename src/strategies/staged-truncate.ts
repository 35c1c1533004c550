import { execute, query } from "../db/prisma-like.js";
import { countRows, truncateTables } from "../sql/bulk.js";
import { refuseOutsideReferences } from "./outside-references.js";
import { insertStaged, type StagedPlan, type StagedTarget, stagedStrategy } from "./staged.js";
import { type ApplyCounts, infosOf, type Strategy } from "./strategy.js";

/**
 * `staged-truncate`: load into TEMP staging while the targets stay untouched; the final
 * phase is `TRUNCATE targets; INSERT … SELECT` per table. Readers wait only during that
 * final phase (TRUNCATE's ACCESS EXCLUSIVE lock lasts until COMMIT). Like TRUNCATE itself,
 * not MVCC-safe for REPEATABLE READ readers that started before the COMMIT. Refused when a
 * table outside the release references a target (TRUNCATE cannot leave it out).
 */
export const stagedTruncateStrategy = (): Strategy => stagedStrategy(stagedTruncatePlan());

/** What sets staged-truncate apart (a plan runs its refusals and reports its locks). */
export function stagedTruncatePlan(): StagedPlan {
  return {
    name: "staged-truncate",
    canFallBack: true,
    refuse: (ctx) => refuseOutsideReferences(ctx, "staged-truncate", { truncate: true }),
    locks: (ctx) => ({ tables: infosOf(ctx), mode: "ACCESS EXCLUSIVE" }),
    async apply(ctx, staged, counts) {
      const before = new Map<string, number>();
      // exact, under the lock: what TRUNCATE removes
      for (const t of infosOf(ctx)) before.set(t.name, Number((await query<{ n: bigint | number }>(ctx.tx, countRows(t)))[0]?.n ?? 0));
      await execute(ctx.tx, truncateTables(infosOf(ctx)));
      const out: Record<string, ApplyCounts> = {};
      for (const t of ctx.tables) {
        const inserted = await insertStaged(ctx, staged.get(t.name) as StagedTarget, t.info, counts.get(t.name) ?? 0);
        out[t.name] = { inserted, updated: 0, unchanged: 0, deleted: before.get(t.name) ?? 0, duplicatesInSource: 0 };
      }
      return out;
    },
  };
}
