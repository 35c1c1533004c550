import { lockBudgetOf, withLockBudget } from "../db/lock-budget.js";
import { execute, query } from "../db/prisma-like.js";
import type { TablePlan } from "../planner/table-plan.js";
import { countRows, deleteAll, insertSelect, truncateTables } from "../sql/bulk.js";
import { createStaging } from "../sql/ddl.js";
import type { QualifiedName } from "../sql/quote.js";
import { type BulkRebuild, deferIndexesAndForeignKeys } from "./bulk-rebuild.js";
import { outsideForeignKeys, refuseOutsideReferences } from "./outside-references.js";
import type { PlanShape } from "./staged-planner.js";
import { stagingName } from "./staging.js";
import { type ApplyCounts, infosOf, type Strategy, type StrategyContext } from "./strategy.js";

/**
 * `direct`: clear the targets, insert the batches into them.
 *
 * Targets are cleared with one TRUNCATE when no table outside the release references
 * them (fast; readers wait until COMMIT; REPEATABLE READ readers whose snapshot predates
 * the COMMIT see the tables empty, as TRUNCATE is not MVCC-safe — use staged-delete for
 * them), otherwise with DELETE in child-first order, once {@link refuseOutsideReferences}
 * has made sure no outside row loses its parent. After a TRUNCATE the load runs in bulk
 * mode (bulk-rebuild.ts). Without it, a self-referencing table is loaded into a TEMP
 * staging table and moved in one statement, so its FK sees every row at once.
 */
export function directStrategy(): Strategy {
  const staged = new Map<string, QualifiedName>();
  const before = new Map<string, number>();
  let bulk: BulkRebuild | null = null;
  return {
    name: "direct",
    async prepare(ctx: StrategyContext) {
      const children = [...infosOf(ctx)].reverse();
      const byDelete = outsideForeignKeys(ctx.tables).length > 0;
      if (byDelete) await refuseOutsideReferences(ctx, "direct", { truncate: false });
      if (byDelete) {
        // MVCC: readers keep seeing the old rows until COMMIT
        for (const t of children) before.set(t.name, await execute(ctx.tx, deleteAll(t)));
      } else {
        // Every lock at once within the lock budget: a TRUNCATE that waits for one table while
        // holding another deadlocks with a reader joining the two.
        await withLockBudget(
          ctx.tx,
          {
            budget: lockBudgetOf(ctx.settings),
            tables: children,
            mode: "ACCESS EXCLUSIVE",
            restoreLockTimeoutMs: ctx.settings.lockTimeoutMs,
            log: ctx.log,
          },
          async () => {
            // exact, under the lock: what TRUNCATE removes
            for (const t of children) before.set(t.name, Number((await query<{ n: bigint | number }>(ctx.tx, countRows(t)))[0]?.n ?? 0));
            await execute(ctx.tx, truncateTables(children));
          },
        );
      }
      // The tables are empty and exclusively ours until COMMIT: build indexes and FKs once, after the load.
      if (!byDelete) bulk = await deferIndexesAndForeignKeys(ctx.tx, infosOf(ctx));
      // Without bulk mode, a self-referencing table goes through staging so its FK sees every row at once.
      for (const t of bulk ? [] : ctx.tables.filter((x) => x.selfReferencing)) {
        const stage = { schema: "pg_temp", name: stagingName(t.name) };
        await execute(ctx.tx, createStaging(stage.name, t.info, { constraints: false }));
        staged.set(t.name, stage);
      }
      ctx.log("cleared targets", { tables: children.length, method: byDelete ? "delete" : "truncate" });
    },
    loadTarget(table: TablePlan) {
      return staged.get(table.name) ?? table.info;
    },
    async tableLoaded(ctx: StrategyContext, t: TablePlan) {
      // in one statement, so the FK sees every row at once; now, so the tables after it find their parents
      const stage = staged.get(t.name);
      if (stage)
        await execute(
          ctx.tx,
          insertSelect(
            t.info,
            stage,
            t.info.columns.filter((c) => !c.isGenerated).map((c) => c.name),
          ),
        );
    },
    async validate() {
      // The targets' own constraints checked every batch as it went in.
    },
    async finish(ctx: StrategyContext) {
      const counts: Record<string, ApplyCounts> = {};
      for (const t of ctx.tables) {
        const [n] = await query<{ n: bigint | number }>(ctx.tx, countRows(t.info));
        counts[t.name] = { inserted: Number(n?.n ?? 0), updated: 0, unchanged: 0, deleted: before.get(t.name) ?? 0, duplicatesInSource: 0 };
      }
      if (bulk) ctx.log("rebuilt indexes and foreign keys", await bulk.rebuild(ctx.tx));
      return counts;
    },
  };
}

/**
 * What `direct` is to a plan: its refusal (with tables outside the release referencing the
 * targets it deletes instead of truncating) and its lock, held from the clear to COMMIT.
 */
export function directPlanShape(): PlanShape {
  const byDelete = (ctx: StrategyContext) => outsideForeignKeys(ctx.tables).length > 0;
  return {
    name: "direct",
    refuse: async (ctx) => {
      if (byDelete(ctx)) await refuseOutsideReferences(ctx, "direct", { truncate: false });
    },
    locks: (ctx) => ({ tables: infosOf(ctx), mode: byDelete(ctx) ? "ROW EXCLUSIVE" : "ACCESS EXCLUSIVE" }),
    held: "whole run",
    countsDeleted: true,
  };
}
