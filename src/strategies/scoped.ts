import { execute, query } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import type { TablePlan } from "../planner/table-plan.js";
import { countRows, truncateTables } from "../sql/bulk.js";
import { lockTables } from "../sql/locks.js";
import type { QualifiedName } from "../sql/quote.js";
import { deleteInScope, holdsRowsOutsideScope, partitionsInScope } from "../sql/staging.js";
import { refuseOutsideReferences } from "./outside-references.js";
import { insertStaged, type StagedPlan, type StagedTarget, stagedStrategy } from "./staged.js";
import { type ApplyCounts, infosOf, type Strategy, type StrategyContext } from "./strategy.js";

/** Every table needs a scope on its own columns. */
function refuseMissingScopes(ctx: StrategyContext): void {
  const problems: string[] = [];
  for (const t of ctx.tables) {
    if (!t.scope) {
      problems.push(`${t.name} has no scope`);
      continue;
    }
    const missing = Object.keys(t.scope).filter((c) => !t.info.columns.some((col) => col.name === c));
    if (missing.length) problems.push(`${t.name} has no column ${missing.join(", ")} (scope ${JSON.stringify(t.scope)})`);
  }
  if (problems.length === 0) return;
  throw new EtlError("CONFIG_INVALID", `scoped needs a scope on a column of every table it replaces: ${problems.join("; ")}`, {
    step: "clear",
    next: 'set `scope: { column: value }` on the release or on each table, e.g. scope: { dataset: "eu" }',
  });
}

/**
 * `scoped`: the release owns only the rows its scope selects (config `scope: { column: value }`,
 * per table or per release). Staged like staged-delete; staged rows outside the scope are
 * refused; the final phase is `DELETE FROM target WHERE <scope>; INSERT … SELECT`, so rows
 * of other scopes are never touched. Never falls back to `direct`, which would replace them.
 *
 * @example
 * releases: { "eu-2026": { strategy: "scoped", scope: { dataset: "eu" }, tables: [...] } }
 */
export const scopedStrategy = (): Strategy => stagedStrategy(scopedPlan());

/** What sets scoped apart (a plan runs its refusals and reports its locks). */
export function scopedPlan(): StagedPlan {
  return {
    name: "scoped",
    canFallBack: false,
    async refuse(ctx) {
      refuseMissingScopes(ctx);
      await refuseOutsideReferences(ctx, "scoped", { truncate: false });
    },
    locks: (ctx) => ({ tables: infosOf(ctx), mode: "ROW EXCLUSIVE" }),
    async apply(ctx, staged, counts) {
      const deleted = new Map<string, number>();
      for (const t of [...ctx.tables].reverse()) deleted.set(t.name, await clearScope(ctx, t));
      const out: Record<string, ApplyCounts> = {};
      for (const t of ctx.tables) {
        const inserted = await insertStaged(ctx, staged.get(t.name) as StagedTarget, t.info, counts.get(t.name) ?? 0);
        out[t.name] = { inserted, updated: 0, unchanged: 0, deleted: deleted.get(t.name) ?? 0, duplicatesInSource: 0 };
      }
      return out;
    },
  };
}

/**
 * Removes a table's rows in the scope. On a partitioned table whose scope is on its
 * partition key, each partition that holds only rows of the scope is emptied with TRUNCATE
 * (no dead rows, no per-row WAL; its readers wait until COMMIT, like staged-truncate's),
 * and only the rest is DELETEd (readers never wait). Not where an FK points at the table:
 * TRUNCATE cannot leave the FK's table out.
 */
async function clearScope(ctx: StrategyContext, t: TablePlan): Promise<number> {
  const scope = t.scope as NonNullable<TablePlan["scope"]>;
  const byPartition =
    t.info.partitioned &&
    t.entry.partitionWise &&
    Object.keys(scope).some((c) => t.info.partitionKey.includes(c)) &&
    t.info.referencedBy.length === 0;
  let truncated = 0;
  if (byPartition) {
    const pure: QualifiedName[] = [];
    for (const p of await query<QualifiedName>(ctx.tx, partitionsInScope(t.info, scope))) {
      const [r] = await query<{ mixed: boolean }>(ctx.tx, holdsRowsOutsideScope(p, scope));
      if (!r?.mixed) pure.push(p);
    }
    if (pure.length) {
      await execute(ctx.tx, lockTables(pure, "ACCESS EXCLUSIVE"));
      // exact, under the lock: what TRUNCATE removes
      for (const p of pure) truncated += Number((await query<{ n: bigint | number }>(ctx.tx, countRows(p)))[0]?.n ?? 0);
      await execute(ctx.tx, truncateTables(pure));
    }
    ctx.log("partitions replaced whole", { table: t.name, truncated: pure.map((p) => p.name), rows: truncated });
  }
  return truncated + (await execute(ctx.tx, deleteInScope(t.info, scope)));
}
