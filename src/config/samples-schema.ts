import { z } from "zod";

/**
 * The `samples` section of the config: per sample, which rows to take from a live database
 * (`atomic-etl sample <name> --from <env>`). Every name may be a Prisma model/field name or a
 * table/column name.
 *
 * `where` is SQL text from the config file, pasted into the query as written (it is your own
 * code, like a migration; it never comes from argv or data). It runs inside a READ ONLY
 * transaction, so it cannot write.
 *
 * @example
 * samples: {
 *   laptop: {
 *     limits: { "*": 100, Player: 1000, matches: "10%" },
 *     where: { Match: "kickoff_at >= now() - interval '90 days'" },
 *     include: { Team: ["players"] },
 *     masks: { "Player.fullName": "name" },
 *   },
 * }
 */
const name = z
  .string()
  .min(1)
  .max(127)
  .refine((s) => !s.includes("\u0000"), "must not contain a NUL byte");

/** `1000` rows, `"10%"` of the table, or `"all"`. */
export const limitSchema = z.union([
  z.number().int().min(0),
  z.string().regex(/^(\d+(\.\d+)?)%$/, 'expected a row count, "N%" or "all"'),
  z.literal("all"),
]);
export type SampleLimit = z.output<typeof limitSchema>;

const userMasker = z.custom<MaskFunction>((v) => typeof v === "function", { message: "expected a function (value, ctx) => value" });

/** Built-in maskers by name, a fixed value, or a function. */
const BUILT_IN_MASKS = ["email", "name", "phone", "text", "null", "keep"] as const;

export const maskRuleSchema = z.union(
  [
    z.enum(BUILT_IN_MASKS),
    z.strictObject({ fixed: z.union([z.string(), z.number(), z.boolean(), z.null()]) }),
    z.strictObject({ fn: userMasker, name: z.string().min(1).optional() }),
  ],
  { error: `expected a mask rule: ${BUILT_IN_MASKS.map((m) => `"${m}"`).join(", ")}, { fixed: value } or { fn: (value, ctx) => …, name }` },
);
export type MaskRule = z.output<typeof maskRuleSchema>;

/** What a user masker gets besides the value: `hash(input)` is the run's keyed hash (hex). */
export interface MaskContext {
  table: string;
  column: string;
  hash: (input: string) => string;
}
export type MaskFunction = (value: unknown, ctx: MaskContext) => unknown;

/** Child edges to follow from a parent: relation/FK/child-table names, or name → cap per parent. */
const includeSchema = z.union([z.array(name).min(1), z.record(name, z.number().int().min(1))]);

export const sampleConfigSchema = z.strictObject({
  /** Tables `"*"` applies to; default: every table of the config's schema. */
  tables: z.array(name).min(1).optional(),
  /** Where selection starts; default: every table named in `limits` or `where` (all of `tables` with `"*"`). */
  roots: z.array(name).min(1).optional(),
  /** Rows per root: `{ players: 1000, "*": 100, matches: "10%", leagues: "all" }`. */
  limits: z.record(name, limitSchema).default({}),
  /** SQL condition per root, from the config only. */
  where: z.record(name, z.string().min(1)).default({}),
  /** Children to pull per parent row, opt-in per edge: `{ Team: ["players"] }` or `{ Team: { players: 5 } }`. */
  include: z.record(name, includeSchema).default({}),
  /** Cap per parent for includes given as a list. */
  childLimit: z.number().int().min(1).default(100),
  /** Masking rules by `Model.field` or `table.column`. */
  masks: z.record(name, maskRuleSchema).default({}),
  /** Environment variable holding the masking secret (never in the config or argv). */
  maskSecretEnv: z.string().min(1).default("ATOMIC_ETL_MASK_SECRET"),
  /** Seed of percentage sampling (TABLESAMPLE BERNOULLI … REPEATABLE). */
  seed: z.number().int().default(0),
});
export type SampleConfig = z.output<typeof sampleConfigSchema>;
export type SampleConfigInput = z.input<typeof sampleConfigSchema>;

export const samplesSchema = z.record(z.string().regex(/^[A-Za-z0-9._-]+$/, "sample names use letters, digits, . _ -"), sampleConfigSchema);
