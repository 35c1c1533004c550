import type { StrategyName } from "../config/schema.js";
import { directStrategy } from "./direct.js";
import type { Strategy } from "./strategy.js";

/** One factory per strategy name; each strategy lives in its own file. */
export const STRATEGIES: Record<StrategyName, () => Strategy> = {
  direct: directStrategy,
};
