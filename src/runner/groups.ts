import type { Logger } from "pino";
import type { Fingerprint } from "../db/fingerprint.js";
import type { TxLike } from "../db/prisma-like.js";
import type { TablePlan } from "../planner/table-plan.js";
import { STRATEGIES } from "../strategies/index.js";
import { PLANNERS } from "../strategies/planners.js";
import type { LoadedTable, Planner, Strategy, StrategyContext } from "../strategies/strategy.js";
import type { RunPlan } from "./plan.js";

/** One strategy instance and the tables it serves, in load order. In a plan, the strategy is its {@link Planner}. */
export interface StrategyGroup {
  strategy: Strategy;
  planner: Planner | null;
  tables: TablePlan[];
}

/** One strategy instance per strategy name: the strategy itself for an import, its planner for a plan. */
export function groupByStrategy(tables: readonly TablePlan[], mode: RunPlan["mode"]): StrategyGroup[] {
  const byName = new Map<string, StrategyGroup>();
  for (const t of tables) {
    let g = byName.get(t.strategy);
    if (!g) {
      const planner = mode === "plan" ? PLANNERS[t.strategy]() : null;
      g = { strategy: planner ?? STRATEGIES[t.strategy](), planner, tables: [] };
      byName.set(t.strategy, g);
    }
    g.tables.push(t);
  }
  return [...byName.values()];
}

/** The strategies that ran, as the report names them (a fallback shows as what actually ran). */
export const strategyNames = (groups: readonly StrategyGroup[]) => [...new Set(groups.map((g) => g.strategy.name))].join(",");

/** What every group's calls share in one transaction. */
export interface GroupShared {
  tx: TxLike;
  plan: RunPlan;
  before: Readonly<Record<string, Fingerprint>>;
  loaded: ReadonlyMap<string, LoadedTable>;
  log: Logger;
}

export function contextOf(g: StrategyGroup, s: GroupShared): StrategyContext {
  return {
    tx: s.tx,
    tables: g.tables,
    settings: s.plan.target.settings,
    mode: s.plan.mode,
    samples: s.plan.samples,
    before: s.before,
    loaded: s.loaded,
    log: (msg, fields) => s.log.info({ strategy: g.strategy.name, ...fields }, msg),
    warn: (msg, fields) => s.log.warn({ strategy: g.strategy.name, ...fields }, msg),
  };
}
