import { lockBudgetOf, withLockBudget } from "../db/lock-budget.js";
import { execute } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { createTempLike, deleteAll, insertSelect, truncateTables } from "../sql/statements.js";
import type { TableInfo } from "../sql/catalog.js";
import type { QualifiedName } from "../sql/quote.js";
import { type BulkRebuild, deferIndexesAndForeignKeys } from "./bulk-rebuild.js";
import type { ApplyCounts, Strategy, StrategyContext } from "./strategy.js";

const stagingName = (t: TableInfo) => `atomic_etl_stage_${t.name}`.slice(0, 63);

/**
 * `direct`: clear the targets, insert the batches into them.
 *
 * Targets are cleared with one TRUNCATE when no table outside the release references
 * them (fast; readers wait until COMMIT; REPEATABLE READ readers whose snapshot predates
 * the COMMIT see the tables empty, as TRUNCATE is not MVCC-safe — use staged-delete for
 * them), otherwise with DELETE in child-first order. After a TRUNCATE the load runs in bulk
 * mode (bulk-rebuild.ts). Without it, a self-referencing table is loaded into a TEMP
 * staging table and moved in one statement, so its FK sees every row at once.
 */
export function directStrategy(): Strategy {
  const staged = new Map<string, QualifiedName>();
  let bulk: BulkRebuild | null = null;
  return {
    name: "direct",
    async prepare(ctx: StrategyContext) {
      const targets = [...ctx.targets].reverse();
      const names = new Set(targets.map((t) => t.name));
      const referencedFromOutside = targets.some((t) =>
        t.referencedBy.some((fk) => !(names.has(fk.table.name) && fk.table.schema === t.schema)),
      );
      if (referencedFromOutside) {
        // A DELETE would silently cascade into (or null out) rows of tables outside the release.
        const touching = targets.flatMap((t) =>
          t.referencedBy.filter(
            (fk) => !(names.has(fk.table.name) && fk.table.schema === t.schema) && ["c", "n", "d"].includes(fk.onDelete),
          ),
        );
        if (touching.length) {
          throw new EtlError(
            "STRATEGY_REFUSED",
            `direct would clear ${touching.map((fk) => fk.references.name).join(", ")} with DELETE, which ${touching.map((fk) => `${fk.table.name} (${fk.name}, ON DELETE ${fk.onDelete === "c" ? "CASCADE" : fk.onDelete === "n" ? "SET NULL" : "SET DEFAULT"})`).join(", ")} would follow outside the release`,
            { step: "clear", next: "add the referencing tables to the release, or use the merge write disposition" },
          );
        }
        for (const t of targets) await execute(ctx.tx, deleteAll(t));
      } else {
        // Every lock at once within the lock budget: a TRUNCATE that waits for one table while
        // holding another deadlocks with a reader joining the two.
        await withLockBudget(
          ctx.tx,
          {
            budget: lockBudgetOf(ctx.settings),
            tables: targets,
            mode: "ACCESS EXCLUSIVE",
            restoreLockTimeoutMs: ctx.settings.lockTimeoutMs,
            log: ctx.log,
          },
          () => execute(ctx.tx, truncateTables(targets)),
        );
        // The tables are empty and exclusively ours until COMMIT: build indexes and FKs once, after the load.
        bulk = await deferIndexesAndForeignKeys(ctx.tx, ctx.targets);
      }
      // Without bulk mode, a self-referencing table goes through staging so its FK sees every row at once.
      for (const name of bulk ? [] : ctx.plan.selfReferencing) {
        const t = ctx.tables.get(name) as TableInfo;
        const stage = { schema: "pg_temp", name: stagingName(t) };
        await execute(ctx.tx, createTempLike(stage.name, t));
        staged.set(name, stage);
      }
      ctx.log("cleared targets", { tables: targets.length, method: referencedFromOutside ? "delete" : "truncate" });
    },
    loadTarget(table: TableInfo) {
      return staged.get(table.name) ?? table;
    },
    async validate() {
      // The targets' own constraints checked every batch as it went in.
    },
    async finish(ctx: StrategyContext) {
      const counts: Record<string, ApplyCounts> = {};
      for (const t of ctx.targets) {
        const stage = staged.get(t.name);
        const inserted = stage
          ? await execute(
              ctx.tx,
              insertSelect(
                t,
                stage,
                t.columns.filter((c) => !c.isGenerated).map((c) => c.name),
              ),
            )
          : null;
        counts[t.name] = { inserted: inserted ?? -1, updated: 0, unchanged: 0, deleted: -1, duplicatesInSource: 0 };
      }
      if (bulk) ctx.log("rebuilt indexes and foreign keys", await bulk.rebuild(ctx.tx));
      return counts;
    },
  };
}
