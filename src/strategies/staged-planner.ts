import { EtlError } from "../errors.js";
import { replaceChanges } from "../plan/replace-changes.js";
import type { PlannedTable } from "../plan/planned-table.js";
import type { LockMode } from "../sql/locks.js";
import { replacedRows } from "../sql/plan-views.js";
import type { QualifiedName } from "../sql/quote.js";
import { checkStaged, type StagedTarget } from "../validation/staged-checks.js";
import { createStagingTables } from "./staging.js";
import { type FinalLock, infosOf, type Planner, type StrategyContext } from "./strategy.js";

/** What a replace strategy is to a plan: its refusals and its final phase's lock. */
export interface PlanShape {
  name: string;
  /** The strategy's own up-front refusals (read only). */
  refuse?(ctx: StrategyContext): Promise<void>;
  locks(ctx: StrategyContext): { tables: QualifiedName[]; mode: LockMode };
  held: FinalLock["held"];
  /** `false` for swap, whose final phase drops the old table whole and counts no deleted rows. */
  countsDeleted: boolean;
}

/**
 * A replace strategy as a plan runs it, whatever the strategy: its refusals, the release into
 * TEMP staging (never a target, even for `direct`), the staged checks against the final state
 * (the same as the staged strategies run before their final phase), then `diff` against the
 * targets. Only reads touch the targets: no TRUNCATE, no final phase, none of its locks.
 */
export function stagedPlanner(shape: PlanShape): Planner {
  const staged = new Map<string, StagedTarget>();
  let counts = new Map<string, number>();
  return {
    name: shape.name,
    async prepare(ctx) {
      await shape.refuse?.(ctx);
      // a plan cannot fall back to direct: it would have to write the targets
      const stages = (await createStagingTables(ctx, shape.name, false)) as Map<string, QualifiedName>;
      for (const t of ctx.tables) staged.set(t.name, { info: t.info, stage: stages.get(t.name) as QualifiedName, scope: t.scope });
    },
    loadTarget(table) {
      return staged.get(table.name)?.stage ?? table.info;
    },
    async validate(ctx) {
      counts = await checkStaged(ctx.tx, infosOf(ctx), staged, ctx.log);
    },
    async diff(ctx) {
      const out: Record<string, PlannedTable> = {};
      for (const t of ctx.tables) {
        const started = performance.now();
        out[t.name] = await replaceChanges(ctx, t, staged.get(t.name) as StagedTarget, counts.get(t.name) ?? 0, shape);
        ctx.log("changes found", { table: t.name, ...out[t.name]?.changes, durationMs: Math.round(performance.now() - started) });
      }
      return out;
    },
    finish() {
      throw new EtlError("INTERNAL", `a plan never runs the final phase (${shape.name})`, { step: "apply" });
    },
    finalRows(ctx) {
      const rows = (t: (typeof ctx.tables)[number]) =>
        replacedRows(
          t.info,
          (staged.get(t.name) as StagedTarget).stage,
          t.info.columns.map((c) => c.name),
          t.scope,
        );
      return Object.fromEntries(ctx.tables.map((t) => [t.name, rows(t)]));
    },
    finalLock(ctx) {
      const l = shape.locks(ctx);
      return { strategy: shape.name, mode: l.mode, tables: l.tables.map((t) => t.name), held: shape.held };
    },
  };
}
