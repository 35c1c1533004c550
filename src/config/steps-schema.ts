import { z } from "zod";
import type { StepFn } from "../steps/types.js";
import { fn, identifier } from "./schema-values.js";

/** Where a step runs: before the file loads, after a named table's load (model or table name), or after the files are applied. */
export const stepPositionSchema = z.union([z.enum(["before", "after"]), z.strictObject({ after: identifier })]);

/**
 * Your own code inside the run's one transaction (src/steps/): `run({ tx, load, log, env, release })`.
 *
 * @example { name: "derive ratings", writes: ["Player"], run: async ({ tx }) => { await tx.player.updateMany(…) } }
 */
export const stepSchema = z.strictObject({
  name: z.string().min(1),
  run: fn<StepFn>("an async function ({ tx, load, log, env, release }) => …"),
  /** Models or tables the step writes: they join the backup, the fingerprints, the proof and the restore. A write to any other table rolls the run back. */
  writes: z.array(identifier).default([]),
  /** Default `after`: once the files are in their tables, before the checks. */
  at: stepPositionSchema.default("after"),
});

/** Step names are unique, and `at: { after }` names a table of the release. */
export function checkSteps(
  r: { tables: { model?: string; table?: string }[]; steps: z.output<typeof stepSchema>[] },
  ctx: z.RefinementCtx,
) {
  const seen = new Set<string>();
  r.steps.forEach((s, i) => {
    if (seen.has(s.name)) ctx.addIssue({ code: "custom", path: ["steps", i, "name"], message: `step name "${s.name}" is used twice` });
    seen.add(s.name);
    const after = typeof s.at === "object" ? s.at.after : null;
    if (after !== null && !r.tables.some((t) => t.model === after || t.table === after))
      ctx.addIssue({
        code: "custom",
        path: ["steps", i, "at", "after"],
        message: `"${after}" is not a table of this release (give the model or table name of one of its files)`,
      });
  });
}
