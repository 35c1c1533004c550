import { z } from "zod";
import type { PrismaPg } from "@prisma/adapter-pg";
import type { PrismaClientLike, TxLike } from "../db/prisma-like.js";
import type { TransformFn } from "../steps/types.js";
import { DEFAULT_DETECT_RULES, detectRuleSchema } from "./environment-detect.js";
import { ENVIRONMENT_NAMES, environmentEntrySchema, environmentNameSchema } from "./environments.js";
import { samplesSchema } from "./samples-schema.js";
import { fn, identifier } from "./schema-values.js";
import type { stepPositionSchema } from "./steps-schema.js";
import { checkSteps, stepSchema } from "./steps-schema.js";

/** A structural zod check: the user's zod copy may not be ours. */
const zodSchemaLike = z.custom<z.ZodType>(
  (v) => typeof v === "object" && v !== null && typeof (v as { safeParse?: unknown }).safeParse === "function",
  { message: "expected a zod schema" },
);

/** Replace strategies (see src/strategies/); `merge` is the incremental write disposition. */
export const STRATEGY_NAMES = ["direct", "staged-truncate", "staged-delete", "swap", "scoped", "merge"] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** `merge.deleteMissing.scope`: rows as `{ column: value }` (ANDed; values are bind parameters). */
export const equalityScopeSchema = z.record(identifier, scalar).refine((s) => Object.keys(s).length > 0, "give at least one column");

/**
 * `scoped` strategy: the rows a release owns, as `{ column: value }` or, for a range,
 * `{ column: { from, to } }` (from ≤ value < to, either end open), ANDed; values are bind
 * parameters.
 *
 * @example { dataset: "eu", payment_date: { from: "2022-01-01", to: "2022-02-01" } }
 */
export const scopeSchema = z
  .record(
    identifier,
    z.union([
      scalar,
      z
        .strictObject({ from: z.union([z.string(), z.number()]).optional(), to: z.union([z.string(), z.number()]).optional() })
        .refine((r) => r.from !== undefined || r.to !== undefined, "give from, to, or both"),
    ]),
  )
  .refine((s) => Object.keys(s).length > 0, "give at least one column");
export type Scope = z.output<typeof scopeSchema>;

/** `"<field or column> [asc|desc]"`. */
const orderTerm = z.string().regex(/^\s*\S+(\s+(asc|desc))?\s*$/i, 'expected "<field or column> [asc|desc]", e.g. "updatedAt desc"');

/**
 * `merge` options of one table (src/strategies/merge.ts). Names are Prisma field names or
 * column names.
 *
 * @example { key: ["playerId", "matchId"], order: "updatedAt desc", onlyIfNewer: true, deleteMissing: { scope: { leagueId: 1 } } }
 */
export const mergeOptionsSchema = z
  .strictObject({
    /** Idempotency key, one or more names; default: the primary key. Needs a unique index on exactly these columns. */
    key: z.union([identifier, z.array(identifier).min(1)]).optional(),
    /** Which of several records with the same key wins, e.g. `"updatedAt desc"`; records tied on key and order are an error. */
    order: z.union([orderTerm, z.array(orderTerm).min(1)]).optional(),
    /** NULL key parts compare equal (needs a UNIQUE NULLS NOT DISTINCT index); otherwise a NULL key part is refused. */
    nullsEqual: z.boolean().default(false),
    /** Columns written when a key matches; default: every non-key column the database does not assign itself. */
    update: z.array(identifier).optional(),
    /**
     * Columns a trigger sets (a `last_update` stamped with now()): never compared (so an
     * unchanged row stays unchanged on the next run) and never written by the merge.
     */
    ownedByTrigger: z.array(identifier).optional(),
    /** With `order`: a matched row is updated only when the incoming record is newer. */
    onlyIfNewer: z.boolean().default(false),
    /** Full sync: delete target rows whose key is not in the release (only rows matching `scope`, if given). */
    deleteMissing: z.union([z.boolean(), z.strictObject({ scope: equalityScopeSchema })]).default(false),
  })
  .refine((m) => !m.onlyIfNewer || m.order !== undefined, {
    message: "onlyIfNewer needs `order` (it says what newer means)",
    path: ["onlyIfNewer"],
  });
export type MergeOptions = z.output<typeof mergeOptionsSchema>;

export const tableConfigSchema = z
  .strictObject({
    /** Prisma model name (mapped to the real table via the client's data model). */
    model: identifier.optional(),
    /** Database table name, for tables without a Prisma model. */
    table: identifier.optional(),
    /** JSON array (`.json`) or NDJSON (`.ndjson`/`.jsonl`) file, relative to the release dir. */
    file: z.string().min(1),
    /** Are keys Prisma field names, database column names, or detected? */
    keys: z.enum(["auto", "fields", "columns"]).default("auto"),
    /** Extra record validation, run before the derived column-type checks. */
    schema: zodSchemaLike.optional(),
    /** Rows per batch for this table; defaults to the environment's. */
    batchSize: z.number().int().min(1).max(1_000_000).optional(),
    /** Replace strategy for this table; defaults to the release's. FK-connected tables must share one. */
    strategy: z.enum(STRATEGY_NAMES).optional(),
    /** Rows of this table the release replaces under `scoped`; defaults to the release's. */
    scope: scopeSchema.optional(),
    /**
     * `scoped` on a partitioned table: partitions that hold only rows of the scope are
     * replaced with TRUNCATE (their readers wait for the final phase); `false` always
     * DELETEs (readers never wait).
     */
    partitionWise: z.boolean().default(true),
    /** Write disposition: `replace` (by a replace strategy) or `merge` (upsert by key; same as `strategy: "merge"`). */
    mode: z.enum(["replace", "merge"]).optional(),
    /** Options of `merge`. */
    merge: mergeOptionsSchema.optional(),
    /** Keys of the record that are not columns: refused (default) or ignored. */
    unknownKeys: z.enum(["error", "ignore"]).default("error"),
    /** An empty file may empty a table that has rows (refused otherwise: an empty export is usually a broken one). */
    allowEmpty: z.boolean().default(false),
    /** Refuse a run that would leave this table with more than this share (0–100) of its rows fewer. */
    maxDeletePercent: z.number().min(0).max(100).optional(),
    /**
     * A key repeated within one object of a record, at any depth (`{"name": "a", "name": "b"}`):
     * refused with REPEATED_KEY (`error`, what an absent option means), or `last-wins`, as
     * JSON.parse reads it.
     */
    duplicateKeys: z.enum(["error", "last-wins"]).optional(),
    /**
     * `(record, ctx) => record | record[] | null`, run on each record before validation:
     * rename, derive, split one record into several, or drop it (`null`).
     */
    transform: fn<TransformFn>("a function (record, ctx) => record | record[] | null").optional(),
  })
  .refine((t) => (t.model === undefined) !== (t.table === undefined), {
    message: "give exactly one of `model` or `table`",
  })
  .refine((t) => t.mode === undefined || t.strategy === undefined || (t.mode === "merge") === (t.strategy === "merge"), {
    message: '`mode` and `strategy` disagree: merge tables use mode: "merge" (or strategy: "merge"), replace tables a replace strategy',
    path: ["mode"],
  })
  .transform((t) => (t.mode === "merge" ? { ...t, strategy: "merge" as const } : t));

export type CheckFn = (tx: TxLike) => Promise<boolean | string | undefined | void>;

export const checkSchema = z.union([
  z.strictObject({
    name: z.string().min(1),
    /** A query that returns the violating rows; the check passes when it returns none. */
    sql: z.string().min(1),
  }),
  z.strictObject({
    name: z.string().min(1),
    /** Return `false` or a message to fail; throw to fail. */
    run: fn<CheckFn>("an async function (tx) => …"),
  }),
]);

export const releaseConfigSchema = z
  .strictObject({
    /** Folder with the release's files; default `<releasesDir>/<release name>`. */
    dir: z.string().min(1).optional(),
    tables: z.array(tableConfigSchema).default([]),
    /** Your own code in the same transaction (see {@link stepSchema}). */
    steps: z.array(stepSchema).default([]),
    checks: z.array(checkSchema).default([]),
    strategy: z.enum(STRATEGY_NAMES).default("direct"),
    /** Rows every table replaces under `scoped`, e.g. `{ dataset: "eu" }`. */
    scope: scopeSchema.optional(),
    /** Materialized views (in the config's schema) refreshed in the same transaction, after the tables are replaced. */
    refresh: z.array(identifier).default([]),
    /** SQL statements run in the same transaction after the tables are replaced (and views refreshed), before the checks. */
    afterLoad: z.array(z.string().min(1)).default([]),
  })
  .superRefine((r, ctx) => {
    if (r.tables.length === 0 && r.steps.length === 0)
      ctx.addIssue({ code: "custom", path: ["tables"], message: "a release needs at least one table or one step" });
    checkSteps(r, ctx);
    r.tables.forEach((t, i) => {
      const merging = (t.strategy ?? r.strategy) === "merge";
      if (t.merge && !merging)
        ctx.addIssue({ code: "custom", path: ["tables", i, "merge"], message: 'merge options need mode: "merge" on the table' });
      if (t.mode === "replace" && merging)
        ctx.addIssue({
          code: "custom",
          path: ["tables", i, "mode"],
          message: 'mode: "replace" needs a replace strategy on the table, the release\'s is "merge"',
        });
    });
  });

/**
 * Makes the Prisma client: `({ url, adapter }) => new PrismaClient({ adapter })`. `adapter` is a
 * `PrismaPg` over a `pg.Pool` the tool made for `url`; a client built over it loads by COPY. A
 * factory that builds its own adapter from `url` still works, loading by INSERT … SELECT.
 */
export type ClientFactory = (opts: { url: string; adapter: PrismaPg }) => PrismaClientLike | Promise<PrismaClientLike>;

export const configSchema = z
  .strictObject({
    /** Makes the Prisma client; receives the connection URL of the chosen environment and an adapter over the tool's pool for it. */
    client: fn<ClientFactory>("a function ({ url, adapter }) => new PrismaClient({ adapter })"),
    /** Postgres schema of the target tables. */
    schema: identifier.default("public"),
    /** Environment variable that holds the connection URL, per environment (an environment's own `databaseUrlEnv` wins). */
    databaseUrlEnv: z.record(z.string(), z.string().min(1)).default({}),
    /** More hosts that count as this machine (a Docker service name, say): without `--env`, only local hosts may run as `local`. */
    localHosts: z.array(z.string().min(1)).default([]),
    releasesDir: z.string().min(1).default("releases"),
    backupDir: z.string().min(1).default("backups"),
    /**
     * Overrides of the built-ins (`production: { keepBackups: 50 }`) and named environments
     * (`railway_staging: { extends: "staging", databaseUrlEnv: "RAILWAY_STAGING_URL" }`).
     */
    environments: z.record(z.string(), environmentEntrySchema).default({}),
    /** Rules that find the environment from platform variables; they only ever make a run stricter (src/config/environment-detect.ts). */
    detect: z.array(detectRuleSchema).default(DEFAULT_DETECT_RULES),
    releases: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/, "release names use letters, digits, . _ -"), releaseConfigSchema),
    /** Samples of a live database (`atomic-etl sample <name>`), see src/config/samples-schema.ts. */
    samples: samplesSchema.default({}),
    /**
     * Schema of the tool's own ledger (src/ledger/): created and upgraded by atomic-etl, never a
     * target, so it must not be the targets' schema.
     */
    ledgerSchema: identifier.default("atomic_etl"),
  })
  .refine((c) => c.ledgerSchema !== c.schema, {
    message: "the ledger needs a schema of its own: ledgerSchema must differ from schema (the targets')",
    path: ["ledgerSchema"],
  })
  .superRefine(checkEnvironmentNames);

/** Named environments extend a built-in; `databaseUrlEnv` and `detect` name only known environments. */
function checkEnvironmentNames(
  c: { environments: Record<string, { extends?: string }>; databaseUrlEnv: Record<string, string>; detect: { env: string }[] },
  ctx: z.RefinementCtx,
): void {
  const builtIn = (n: string) => (ENVIRONMENT_NAMES as readonly string[]).includes(n);
  const known = new Set([...ENVIRONMENT_NAMES, ...Object.keys(c.environments)]);
  const list = [...known].join(", ");
  for (const [name, e] of Object.entries(c.environments)) {
    const bad = environmentNameSchema.safeParse(name);
    if (!bad.success)
      ctx.addIssue({ code: "custom", path: ["environments", name], message: bad.error.issues[0]?.message ?? "invalid name" });
    if (builtIn(name) && e.extends !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["environments", name, "extends"],
        message: `${name} is a built-in environment; only named ones extend`,
      });
    if (!builtIn(name) && e.extends === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["environments", name, "extends"],
        message: `a named environment needs extends: "local", "staging" or "production"`,
      });
  }
  for (const name of Object.keys(c.databaseUrlEnv))
    if (!known.has(name))
      ctx.addIssue({ code: "custom", path: ["databaseUrlEnv", name], message: `unknown environment; expected one of ${list}` });
  c.detect.forEach((r, i) => {
    if (!known.has(r.env))
      ctx.addIssue({ code: "custom", path: ["detect", i, "env"], message: `unknown environment "${r.env}"; expected one of ${list}` });
  });
}

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type ReleaseConfig = z.output<typeof releaseConfigSchema>;
export type TableConfig = z.output<typeof tableConfigSchema>;
export type CheckConfig = z.output<typeof checkSchema>;
export type StepConfig = z.output<typeof stepSchema>;
export type StepPosition = z.output<typeof stepPositionSchema>;
