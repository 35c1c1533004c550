import type { FinalPhasePlan } from "./final-phase.js";
import type { PlanHashInputs } from "./plan-hash.js";

/** The last committed deploy of the release here, as a plan shows it beside its changes. */
export interface LastDeployed {
  runId: string;
  finishedAt: string | null;
  contentHash: string | null;
  /** The release on disk is the content of that deploy. */
  sameContent: boolean;
}

/** What a plan adds to the run report. */
export interface PlanSection {
  /** What the plan hash covers (compare with an import's PLAN_MISMATCH details). */
  inputs: PlanHashInputs;
  finalPhase: FinalPhasePlan[];
  /** What the plan could not do as the import will (afterLoad not run, checks that bypass the planned rows …). */
  notes: string[];
  lastDeployed: LastDeployed | null;
}
