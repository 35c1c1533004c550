import { createHash } from "node:crypto";
import type { TablePlan } from "../planner/table-plan.js";
import type { RunPlan } from "../runner/plan.js";
import { canonicalJson } from "./canonical.js";

/**
 * The effective config of a run, hashed: everything that decides what an import writes, after
 * defaults and `--strategy`. Per table its name, file, strategy, scope, merge options, key
 * mode, unknown-key rule, loss guards and record schema (zod, by definition and function
 * source); the release's checks (SQL, or function source), refreshes and afterLoad
 * statements; the targets' schema and the environment's fallback. Not what only changes how
 * fast or how safely it runs (batch sizes, timeouts, lock budgets, backups).
 *
 * @example configHash(plan, tables) // "3b0c…"
 */
export function configHash(plan: RunPlan, tables: readonly TablePlan[]): string {
  const release = plan.releaseConfig;
  const effective = {
    v: 1,
    schema: plan.schema,
    fallback: plan.target.settings.fallback,
    tables: tables.map((t) => ({
      table: t.name,
      file: t.entry.file,
      strategy: t.strategy,
      scope: t.scope,
      merge: t.merge ?? null,
      keys: t.entry.keys,
      unknownKeys: t.entry.unknownKeys,
      allowEmpty: t.entry.allowEmpty,
      maxDeletePercent: t.entry.maxDeletePercent ?? null,
      schema: t.entry.schema ?? null,
      transform: t.entry.transform ?? null,
    })),
    checks: release.checks,
    refresh: release.refresh,
    afterLoad: release.afterLoad,
  };
  return createHash("sha256").update(canonicalJson(effective)).digest("hex");
}
