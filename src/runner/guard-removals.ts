import type { Fingerprint } from "../db/fingerprint.js";
import { query, type TxLike } from "../db/prisma-like.js";
import type { TablePlan } from "../planner/table-plan.js";
import type { TableReport } from "../reporting/report.js";
import { countInScope } from "../sql/staging.js";
import { checkRemoval } from "../validation/guards.js";

/**
 * The loss guards of every replaced table ({@link checkRemoval}), before the final phase: a
 * replace removes the rows it replaces (all of them, or the scope's) and puts the release's
 * back. Merge tables guard their own `deleteMissing`.
 */
export async function guardRemovals(
  tx: TxLike,
  tables: readonly TablePlan[],
  reports: ReadonlyMap<string, TableReport>,
  before: Readonly<Record<string, Fingerprint>>,
): Promise<void> {
  for (const t of tables) {
    if (t.strategy === "merge") continue;
    const records = reports.get(t.name)?.records ?? 0;
    // a scope's rows are counted now: the staged strategies have not touched the target yet
    const rowsBefore = t.scope
      ? Number((await query<{ n: bigint | number }>(tx, countInScope(t.info, t.scope)))[0]?.n ?? 0)
      : (before[t.name]?.rows ?? 0);
    checkRemoval({
      table: t.name,
      file: t.file.file,
      records,
      rowsBefore,
      removed: rowsBefore - records,
      allowEmpty: t.entry.allowEmpty,
      maxDeletePercent: t.entry.maxDeletePercent,
    });
  }
}
