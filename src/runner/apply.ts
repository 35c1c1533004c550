import { query } from "../db/prisma-like.js";
import type { TableReport } from "../reporting/report.js";
import { bumpSequence } from "../sql/bulk.js";
import { afterLoad } from "./after-load.js";
import { contextOf, type GroupShared, type StrategyGroup } from "./groups.js";
import type { PhaseClock } from "./phase.js";

/**
 * The import's final phase: per strategy its diff step (merge) and `finish`, which makes the
 * loaded rows the tables' rows; then sequences raised past the loaded ids, and the release's
 * refreshes and afterLoad statements.
 */
export async function applyPhase(
  s: GroupShared,
  groups: readonly StrategyGroup[],
  reports: ReadonlyMap<string, TableReport>,
  clock: PhaseClock,
): Promise<void> {
  const tables = groups.flatMap((g) => g.tables);
  await clock.run(
    "apply",
    async () => {
      for (const g of groups) {
        await g.strategy.diff?.(contextOf(g, s));
        for (const [name, c] of Object.entries(await g.strategy.finish(contextOf(g, s)))) {
          const r = reports.get(name);
          if (r) r.applied = c;
          s.log.info({ phase: "apply", table: name, ...c }, "applied");
        }
      }
      for (const t of tables) for (const c of t.info.columns) if (c.sequence) await query(s.tx, bumpSequence(t.info, c.name, c.sequence));
      await afterLoad(s.tx, s.plan, s.log);
    },
    () => ({ tables: tables.length }),
  );
}
