import { query } from "../db/prisma-like.js";
import type { TablePlan } from "../planner/table-plan.js";
import { type DiffSpec, keyedCounts, keyedOneSidedSample, keyedUpdatedSample, multisetCounts, multisetSample } from "../sql/plan-diff.js";
import type { Statement } from "../sql/statement.js";
import { freshName, NO_EQUALITY } from "../strategies/merge-spec.js";
import type { StrategyContext } from "../strategies/strategy.js";
import type { StagedTarget } from "../validation/staged-checks.js";
import { type ChangeCounts, type PlannedTable, type RowSample, sampleFrom } from "./planned-table.js";

/**
 * How a replace table's rows compare: by primary key, over the columns the final phase
 * writes (not generated ones, which follow from the others, nor trigger-filled ones, which
 * only the final INSERT computes); without a primary key, as a multiset of whole rows.
 */
export function diffSpecOf(t: TablePlan, s: StagedTarget): DiffSpec {
  const key = t.info.primaryKey;
  const compare = t.info.columns
    .filter((c) => !c.isGenerated && !c.filledByTrigger && !key.includes(c.name))
    .map((c) => ({ name: c.name, asText: NO_EQUALITY.has(c.type) }));
  return {
    stage: s.stage,
    target: t.info,
    key,
    compare,
    scope: s.scope,
    marker: freshName("side", new Set(t.info.columns.map((c) => c.name))),
  };
}

const num = (v: unknown) => Number(v ?? 0);

/**
 * What replacing one table with its staged rows changes, read only: counts by key (or
 * multiset), rows now and after, the final phase's writes as the import will report them,
 * and up to `ctx.samples` example rows of each kind.
 */
export async function replaceChanges(
  ctx: StrategyContext,
  t: TablePlan,
  s: StagedTarget,
  staged: number,
  opts: { countsDeleted: boolean },
): Promise<PlannedTable> {
  const d = diffSpecOf(t, s);
  const keyed = d.key.length > 0;
  const [c] = await query<Record<keyof ChangeCounts, unknown>>(ctx.tx, keyed ? keyedCounts(d) : multisetCounts(d));
  const changes: ChangeCounts = {
    inserted: num(c?.inserted),
    updated: num(c?.updated),
    deleted: num(c?.deleted),
    unchanged: num(c?.unchanged),
  };
  const rowsNow = ctx.before[t.name]?.rows ?? 0;
  // the rows the final phase removes: the whole table, or its scope
  const replaced = changes.deleted + changes.updated + changes.unchanged;
  return {
    strategy: t.strategy,
    matchedBy: keyed ? { kind: "primary key", columns: [...d.key] } : { kind: "whole row", columns: d.compare.map((x) => x.name) },
    rowsNow,
    rowsAfter: staged + rowsNow - replaced,
    changes,
    duplicatesInSource: 0,
    writes: { inserted: staged, updated: 0, unchanged: 0, deleted: opts.countsDeleted ? replaced : null, duplicatesInSource: 0 },
    samples: await samplesOf(ctx, d, changes),
  };
}

async function samplesOf(ctx: StrategyContext, d: DiffSpec, c: ChangeCounts): Promise<PlannedTable["samples"]> {
  const n = ctx.samples;
  const read = async (want: number, s: () => Statement, shape: (r: Record<string, unknown>) => RowSample) =>
    n > 0 && want > 0 ? (await query<Record<string, unknown>>(ctx.tx, s())).map(shape) : [];
  const cols = d.compare.map((x) => x.name);
  if (d.key.length === 0) {
    return {
      inserted: await read(
        c.inserted,
        () => multisetSample(d, "inserted", n),
        (r) => sampleFrom(r, [], { values: cols }),
      ),
      updated: [],
      deleted: await read(
        c.deleted,
        () => multisetSample(d, "deleted", n),
        (r) => sampleFrom(r, [], { values: cols }),
      ),
    };
  }
  return {
    inserted: await read(
      c.inserted,
      () => keyedOneSidedSample(d, "inserted", n),
      (r) => sampleFrom(r, d.key, { values: cols }),
    ),
    updated: await read(
      c.updated,
      () => keyedUpdatedSample(d, n),
      (r) => sampleFrom(r, d.key, { compared: cols }),
    ),
    deleted: await read(
      c.deleted,
      () => keyedOneSidedSample(d, "deleted", n),
      (r) => sampleFrom(r, d.key, { values: cols }),
    ),
  };
}
