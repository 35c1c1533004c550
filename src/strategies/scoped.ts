import { EtlError } from "../errors.js";
import { refuseOutsideReferences } from "./outside-references.js";
import { replaceByDelete, type StagedPlan, stagedStrategy } from "./staged.js";
import { infosOf, type Strategy, type StrategyContext } from "./strategy.js";

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
    apply: replaceByDelete,
  };
}
