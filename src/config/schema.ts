import { z } from "zod";
import type { PrismaClientLike, TxLike } from "../db/prisma-like.js";
import { ENVIRONMENT_NAMES, environmentSettingsSchema } from "./environments.js";

/** A structural zod check: the user's zod copy may not be ours. */
const zodSchemaLike = z.custom<z.ZodType>(
  (v) => typeof v === "object" && v !== null && typeof (v as { safeParse?: unknown }).safeParse === "function",
  { message: "expected a zod schema" },
);
const fn = <T>(what: string) => z.custom<T>((v) => typeof v === "function", { message: `expected ${what}` });

/** Replace strategies (see src/strategies/); `merge` is the incremental write disposition. */
export const STRATEGY_NAMES = ["direct"] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

const identifier = z
  .string()
  .min(1)
  .max(63)
  .refine((s) => !s.includes("\u0000"), "must not contain a NUL byte");

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
    /** Keys of the record that are not columns: refused (default) or ignored. */
    unknownKeys: z.enum(["error", "ignore"]).default("error"),
  })
  .refine((t) => (t.model === undefined) !== (t.table === undefined), {
    message: "give exactly one of `model` or `table`",
  });

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

export const releaseConfigSchema = z.strictObject({
  /** Folder with the release's files; default `<releasesDir>/<release name>`. */
  dir: z.string().min(1).optional(),
  tables: z.array(tableConfigSchema).min(1),
  checks: z.array(checkSchema).default([]),
  strategy: z.enum(STRATEGY_NAMES).default("direct"),
});

export type ClientFactory = (opts: { url: string }) => PrismaClientLike | Promise<PrismaClientLike>;

export const configSchema = z.strictObject({
  /** Makes the Prisma client; receives the connection URL of the chosen environment. */
  client: fn<ClientFactory>("a function ({ url }) => new PrismaClient(…)"),
  /** Postgres schema of the target tables. */
  schema: identifier.default("public"),
  /** Environment variable that holds the connection URL, per environment. */
  databaseUrlEnv: z
    .partialRecord(z.enum(ENVIRONMENT_NAMES), z.string().min(1))
    .default({}),
  releasesDir: z.string().min(1).default("etl/releases"),
  backupDir: z.string().min(1).default("backups"),
  environments: z.partialRecord(z.enum(ENVIRONMENT_NAMES), environmentSettingsSchema.partial()).default({}),
  releases: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/, "release names use letters, digits, . _ -"), releaseConfigSchema),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type ReleaseConfig = z.output<typeof releaseConfigSchema>;
export type TableConfig = z.output<typeof tableConfigSchema>;
export type CheckConfig = z.output<typeof checkSchema>;
