import type { StrategyName } from "../config/schema.js";
import { directStrategy } from "./direct.js";
import { mergeStrategy } from "./merge.js";
import { scopedStrategy } from "./scoped.js";
import { stagedDeleteStrategy } from "./staged-delete.js";
import { stagedTruncateStrategy } from "./staged-truncate.js";
import type { Strategy } from "./strategy.js";
import { swapStrategy } from "./swap.js";

/** One factory per strategy name; each strategy lives in its own file. */
export const STRATEGIES: Record<StrategyName, () => Strategy> = {
  direct: directStrategy,
  "staged-truncate": stagedTruncateStrategy,
  "staged-delete": stagedDeleteStrategy,
  swap: swapStrategy,
  scoped: scopedStrategy,
  merge: mergeStrategy,
};
