import { lockBudgetOf, withLockBudget } from "../db/lock-budget.js";
import { execute } from "../db/prisma-like.js";
import type { LockMode } from "../sql/locks.js";
import type { QualifiedName } from "../sql/quote.js";
import { deleteInScope, insertFromStage } from "../sql/staging.js";
import { deleteAll } from "../sql/bulk.js";
import { checkStaged, type StagedTarget } from "../validation/staged-checks.js";
import { expectRowCount } from "../validation/row-counts.js";
import { directStrategy } from "./direct.js";
import { createStagingTables } from "./staging.js";
import { type ApplyCounts, infosOf, type Strategy, type StrategyContext } from "./strategy.js";

export type { StagedTarget } from "../validation/staged-checks.js";

/** What sets one staged strategy apart; see {@link stagedStrategy}. */
export interface StagedPlan {
  name: string;
  /** `false` when `direct` would do something else entirely (scoped: it would replace other scopes' rows). */
  canFallBack: boolean;
  /** Up-front refusals, before anything is created or loaded. */
  refuse?(ctx: StrategyContext): Promise<void>;
  /** After the staging tables exist (swap creates its new tables here). */
  afterStaging?(ctx: StrategyContext, staged: ReadonlyMap<string, StagedTarget>): Promise<void>;
  /** After the staged rows passed validation (swap fills its new tables here). */
  afterChecks?(ctx: StrategyContext, staged: ReadonlyMap<string, StagedTarget>, counts: ReadonlyMap<string, number>): Promise<void>;
  /** The tables the final phase locks first, and how. */
  locks(ctx: StrategyContext): { tables: QualifiedName[]; mode: LockMode };
  /** The final phase, run inside the lock budget once the locks are held. */
  apply(
    ctx: StrategyContext,
    staged: ReadonlyMap<string, StagedTarget>,
    counts: ReadonlyMap<string, number>,
  ): Promise<Record<string, ApplyCounts>>;
}

/**
 * The shape every staged strategy shares: the release is loaded into TEMP staging tables
 * while the targets stay untouched, validated there against the final state, then moved in
 * by a short final phase that takes its locks within the lock budget. When staging cannot
 * be created it falls back to `direct` (or fails), as the environment's `fallback` says.
 *
 * @example
 * export const stagedDeleteStrategy = () => stagedStrategy({ name: "staged-delete", canFallBack: true, locks, apply });
 */
export function stagedStrategy(plan: StagedPlan): Strategy {
  const staged = new Map<string, StagedTarget>();
  let counts = new Map<string, number>();
  let fallback: Strategy | null = null;
  return {
    /** `direct` once it fell back. */
    get name() {
      return fallback ? fallback.name : plan.name;
    },
    async prepare(ctx) {
      await plan.refuse?.(ctx);
      const stages = await createStagingTables(ctx, plan.name, plan.canFallBack);
      if (!stages) {
        fallback = directStrategy();
        return fallback.prepare(ctx);
      }
      for (const t of ctx.tables) staged.set(t.name, { info: t.info, stage: stages.get(t.name) as QualifiedName, scope: t.scope });
      await plan.afterStaging?.(ctx, staged);
    },
    loadTarget(table) {
      if (fallback) return fallback.loadTarget(table);
      return staged.get(table.name)?.stage ?? table.info;
    },
    async validate(ctx) {
      if (fallback) return fallback.validate(ctx);
      counts = await checkStaged(ctx.tx, infosOf(ctx), staged, ctx.log);
      await plan.afterChecks?.(ctx, staged, counts);
    },
    async finish(ctx) {
      if (fallback) return fallback.finish(ctx);
      const { tables, mode } = plan.locks(ctx);
      const started = performance.now();
      const result = await withLockBudget(
        ctx.tx,
        { budget: lockBudgetOf(ctx.settings), tables, mode, restoreLockTimeoutMs: ctx.settings.lockTimeoutMs, log: ctx.log },
        () => plan.apply(ctx, staged, counts),
      );
      ctx.log("final phase done", {
        tables: ctx.tables.length,
        rows: [...counts.values()].reduce((a, b) => a + b, 0),
        durationMs: Math.round(performance.now() - started),
      });
      return result;
    },
  };
}

/**
 * Moves one table's staged rows into `into` with one INSERT … SELECT; identity columns the
 * release left empty draw from the target's sequence. Fails with ROW_COUNT_MISMATCH when
 * the table took other than `expected` rows (a trigger or rule dropping or adding rows).
 */
export async function insertStaged(ctx: StrategyContext, s: StagedTarget, into: QualifiedName, expected: number): Promise<number> {
  const columns = s.info.columns.filter((c) => !c.isGenerated);
  const fill = columns.filter((c) => c.isIdentity && c.sequence).map((c) => ({ column: c.name, sequence: c.sequence as string }));
  const inserted = await execute(
    ctx.tx,
    insertFromStage(
      into,
      s.stage,
      columns.map((c) => c.name),
      fill,
    ),
  );
  expectRowCount({
    table: s.info.name,
    expected,
    actual: inserted,
    message: `${s.info.name}: ${expected} rows were staged but ${inserted} were inserted`,
    step: "apply",
  });
  return inserted;
}

/**
 * The MVCC final phase of staged-delete and scoped: DELETE (children first; only the scope
 * when there is one), then INSERT … SELECT (parents first). Readers keep seeing the old rows
 * until COMMIT and never wait.
 */
export async function replaceByDelete(
  ctx: StrategyContext,
  staged: ReadonlyMap<string, StagedTarget>,
  counts: ReadonlyMap<string, number>,
): Promise<Record<string, ApplyCounts>> {
  const deleted = new Map<string, number>();
  for (const t of [...infosOf(ctx)].reverse()) {
    const s = staged.get(t.name) as StagedTarget;
    deleted.set(t.name, await execute(ctx.tx, s.scope ? deleteInScope(t, s.scope) : deleteAll(t)));
  }
  const out: Record<string, ApplyCounts> = {};
  for (const t of ctx.tables) {
    const inserted = await insertStaged(ctx, staged.get(t.name) as StagedTarget, t.info, counts.get(t.name) ?? 0);
    out[t.name] = { inserted, updated: 0, unchanged: 0, deleted: deleted.get(t.name) ?? 0, duplicatesInSource: 0 };
  }
  return out;
}
