import type { StrategyName } from "../config/schema.js";
import { directPlanShape } from "./direct.js";
import { mergeStrategy } from "./merge.js";
import { scopedPlan } from "./scoped.js";
import type { StagedPlan } from "./staged.js";
import { stagedDeletePlan } from "./staged-delete.js";
import { type PlanShape, stagedPlanner } from "./staged-planner.js";
import { stagedTruncatePlan } from "./staged-truncate.js";
import type { Planner } from "./strategy.js";
import { swapPlan } from "./swap.js";

const shapeOf = (p: StagedPlan, held: PlanShape["held"], countsDeleted = true): PlanShape => ({
  name: p.name,
  refuse: p.refuse ? (ctx) => (p.refuse as NonNullable<StagedPlan["refuse"]>).call(p, ctx) : undefined,
  locks: (ctx) => p.locks(ctx),
  held,
  countsDeleted,
});

/**
 * Every strategy as a plan runs it (see {@link Planner}): the replace strategies through
 * {@link stagedPlanner} with their own refusals and locks; merge as it is, since its diff
 * never touches a target (its final phase never runs in a plan).
 */
export const PLANNERS: Record<StrategyName, () => Planner> = {
  direct: () => stagedPlanner(directPlanShape()),
  "staged-truncate": () => stagedPlanner(shapeOf(stagedTruncatePlan(), "final phase")),
  "staged-delete": () => stagedPlanner(shapeOf(stagedDeletePlan(), "final phase")),
  swap: () => stagedPlanner(shapeOf(swapPlan(), "rename", false)),
  scoped: () => stagedPlanner(shapeOf(scopedPlan(), "final phase")),
  merge: mergeStrategy,
};
