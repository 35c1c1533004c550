import { execute, query } from "../db/prisma-like.js";
import { estimateFinalPhase, type FinalPhasePlan } from "../plan/final-phase.js";
import type { PlannedTable } from "../plan/planned-table.js";
import type { TableReport } from "../reporting/report.js";
import { shadowView } from "../sql/plan-views.js";
import { ping } from "../sql/session.js";
import { contextOf, type GroupShared, type StrategyGroup } from "./groups.js";
import type { PhaseClock } from "./phase.js";
import type { RunPlan } from "./plan.js";

export interface PlanPhaseResult {
  finalPhase: FinalPhasePlan[];
  notes: string[];
}

/**
 * A plan's stand-in for the final phase, read only: each planner's diff (changes by key,
 * what the final phase will write, example rows), the final phase's lock with its duration
 * estimated from this plan's own load, then TEMP views named like the targets that show the
 * rows after the final phase, so the release's checks that follow see those rows.
 */
export async function planPhase(
  s: GroupShared,
  groups: readonly StrategyGroup[],
  reports: ReadonlyMap<string, TableReport>,
  clock: PhaseClock,
): Promise<PlanPhaseResult> {
  const planned = await clock.run(
    "diff",
    async () => {
      const out: Record<string, PlannedTable> = {};
      for (const g of groups) Object.assign(out, await g.planner?.diff(contextOf(g, s)));
      return out;
    },
    (p) => ({
      tables: Object.keys(p).length,
      changes: Object.values(p).reduce((a, t) => a + t.changes.inserted + t.changes.updated + t.changes.deleted, 0),
    }),
  );
  for (const [name, p] of Object.entries(planned)) {
    const r = reports.get(name);
    if (r) r.planned = p;
  }
  const started = performance.now();
  await query(s.tx, ping());
  const roundTripMs = performance.now() - started;
  const loaded = [...reports.values()];
  const rows = loaded.reduce((a, r) => a + r.rowsLoaded, 0);
  const measurements = {
    tables: loaded.filter((r) => r.planned).map((r) => ({ table: r.table, planned: r.planned as PlannedTable, loadMs: r.durationMs })),
    msPerRow: rows ? loaded.reduce((a, r) => a + r.dbMs, 0) / rows : 0,
    roundTripMs,
  };
  const finalPhase = groups.flatMap((g) => (g.planner ? [estimateFinalPhase(g.planner.finalLock(contextOf(g, s)), measurements)] : []));
  for (const g of groups) {
    for (const [name, rowsAfter] of Object.entries(g.planner?.finalRows(contextOf(g, s)) ?? {}))
      await execute(s.tx, shadowView(name, rowsAfter));
  }
  return { finalPhase, notes: notesOf(s.plan, [...reports.keys()]) };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** What the plan does not do as the import will, so its checks may see something else. */
function notesOf(plan: RunPlan, tables: readonly string[]): string[] {
  const { afterLoad, refresh, checks } = plan.releaseConfig;
  const notes: string[] = [];
  if (refresh.length)
    notes.push(`refresh (${refresh.join(", ")}) is not run by a plan: it would lock those views; the checks see them as they are`);
  if (afterLoad.length)
    notes.push(
      `afterLoad: ${afterLoad.length} statement(s) not run by a plan (a plan writes nothing); the checks see the tables without them`,
    );
  for (const c of checks) {
    if (!("sql" in c)) continue;
    const qualified = tables.filter((t) =>
      new RegExp(`(^|[^\\w"])"?${escape(plan.schema)}"?\\s*\\.\\s*"?${escape(t)}("|\\b)`, "i").test(c.sql),
    );
    if (qualified.length)
      notes.push(
        `check "${c.name}" names ${qualified.map((t) => `${plan.schema}.${t}`).join(", ")} with its schema: in a plan it reads the rows before the release (unqualified names read the planned rows)`,
      );
  }
  if (checks.some((c) => !("sql" in c))) notes.push("function checks see the planned rows only through unqualified table names");
  return notes;
}
