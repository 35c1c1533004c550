import { query } from "../db/prisma-like.js";
import type { TablePlan } from "../planner/table-plan.js";
import type { MergeSpec } from "../sql/merge.js";
import { mergeChangeCounts, mergeDeletedSample, mergeInsertedSample, mergeUpdatedSample } from "../sql/merge-plan.js";
import type { Statement } from "../sql/statement.js";
import { duplicateRate, type StrategyContext } from "../strategies/strategy.js";
import { type PlannedTable, type RowSample, sampleFrom } from "./planned-table.js";

/**
 * What a merge will do to one table, from its classification (new keys and changed matches,
 * after the dedup and `onlyIfNewer`) and `deleteMissing`'s count, read only. `writes` is what
 * the import's upsert will report.
 */
export async function mergeChanges(
  ctx: StrategyContext,
  t: TablePlan,
  spec: MergeSpec,
  sizes: { staged: number; deduped: number },
  missing: number,
): Promise<PlannedTable> {
  const [c] = await query<{ inserted: unknown; updated: unknown }>(ctx.tx, mergeChangeCounts(spec));
  const inserted = Number(c?.inserted ?? 0);
  const updated = Number(c?.updated ?? 0);
  const deleted = spec.deleteScope ? missing : 0;
  const unchanged = sizes.deduped - inserted - updated;
  const duplicates = sizes.staged - sizes.deduped;
  const rowsNow = ctx.before[t.name]?.rows ?? 0;
  const n = ctx.samples;
  const read = async (want: number, s: () => Statement, shape: (r: Record<string, unknown>) => RowSample) =>
    n > 0 && want > 0 ? (await query<Record<string, unknown>>(ctx.tx, s())).map(shape) : [];
  return {
    strategy: "merge",
    matchedBy: { kind: "merge key", columns: [...spec.key] },
    rowsNow,
    rowsAfter: rowsNow + inserted - deleted,
    changes: { inserted, updated, deleted, unchanged },
    duplicatesInSource: duplicates,
    writes: {
      inserted,
      updated,
      unchanged,
      deleted,
      duplicatesInSource: duplicates,
      duplicateRate: duplicateRate(duplicates, sizes.staged),
    },
    samples: {
      inserted: await read(
        inserted,
        () => mergeInsertedSample(spec, n),
        (r) => sampleFrom(r, spec.key, { values: spec.insert }),
      ),
      updated: await read(
        updated,
        () => mergeUpdatedSample(spec, n),
        (r) => sampleFrom(r, spec.key, { compared: spec.update }),
      ),
      deleted: await read(
        deleted,
        () => mergeDeletedSample(spec, n),
        (r) => sampleFrom(r, spec.key, { values: spec.insert }),
      ),
    },
  };
}
