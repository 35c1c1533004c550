import type { StrategyName } from "../../../src/config/schema.js";
import { STRATEGIES } from "../../../src/strategies/index.js";

/**
 * The registered strategies that replace whole tables, so every fault trial can rotate
 * through them: `scoped` replaces only a configured slice and `merge` keeps rows the release
 * lacks, so neither turns release A into exactly release B.
 */
export function replaceStrategies(): StrategyName[] {
  return (Object.keys(STRATEGIES) as StrategyName[]).filter((s) => s !== "scoped" && s !== "merge");
}
