import { randomUUID } from "node:crypto";
import path from "node:path";
import { type LoadedConfig, resolveEnvironment } from "../config/load.js";
import type { ClientFactory, ReleaseConfig, StrategyName } from "../config/schema.js";
import { resolveTarget, type Target } from "../config/target.js";
import type { ClientDefaults } from "../db/client-schema.js";
import type { RuntimeDataModel, TxLike } from "../db/prisma-like.js";
import { ConfigError, EtlError, type Step } from "../errors.js";
import { PLAN_HASH_PATTERN } from "../plan/plan-hash.js";
import { type LoadPlan, planLoadOrder } from "../planner/fk-order.js";
import type { TablePlan } from "../planner/table-plan.js";
import type { ReleaseFile } from "../release/release-files.js";
import { resolveRelease } from "../release/resolve-release.js";
import type { TableInfo } from "../sql/catalog.js";
import { type ColumnDefaults, columnDefaults } from "../validation/client-defaults.js";
import { mapModel, type TableMapping } from "../validation/table-mapping.js";
import { checkTableSchema } from "../validation/table-schema.js";

/** Hooks for progress display and for tests that inject faults between steps. */
export interface RunHooks {
  /** As each phase starts (preflight, lock, backup, clear, load, validate, apply). Throwing fails the run. */
  onPhase?: (phase: Step) => Promise<void> | void;
  /** After each batch is inserted (inside the transaction). Throwing fails the run. */
  afterBatch?: (e: { table: string; batch: number; rows: number; tx: TxLike }) => Promise<void> | void;
  /** Right before the transaction callback returns (COMMIT follows). */
  beforeCommit?: (e: { txid: string; tx: TxLike }) => Promise<void> | void;
  /** A table's load starts; `bytes` is its file's size. */
  onTableStart?: (e: { table: string; bytes: number }) => void;
  /** After each batch: the table's rows loaded and file bytes read so far. */
  onProgress?: (e: { table: string; rows: number; bytes: number }) => void;
  onTableDone?: (e: { table: string }) => void;
}

export interface ImportOptions {
  release: string;
  /** `local` | `staging` | `production`; default `ETL_ENV`, then `local`. */
  env?: string;
  /** Required for production. */
  force?: boolean;
  /** `false` = `--no-backup`; `tables` | `full` = `--backup <mode>`; default: the environment's. */
  backup?: boolean | "tables" | "full";
  batchSize?: number;
  strategy?: StrategyName;
  /** Wait up to this long for another run's lock instead of failing fast. */
  waitMs?: number;
  /** Connection URL; default: the environment variable the config names (DATABASE_URL). */
  url?: string;
  hooks?: RunHooks;
  /** Refuse (PLAN_MISMATCH) unless the plan hash of what the import starts from is this (or starts with it, ≥ 12 hex digits). */
  expectPlan?: string;
  /** Run even when the release and the targets are as the last deploy of the release left them. */
  redeploy?: boolean;
  /**
   * Aborting stops the run at its next safe point (between phases, between batches, before
   * COMMIT is decided); it then rolls back and proves the database unchanged. The abort
   * reason "SIGTERM" (or "parent gone") reports TERMINATED, anything else INTERRUPTED.
   */
  signal?: AbortSignal;
}

/** `atomic-etl plan`: an import's options that still mean something for a run that never writes. */
export interface PlanOptions {
  release: string;
  env?: string;
  batchSize?: number;
  strategy?: StrategyName;
  url?: string;
  hooks?: RunHooks;
  /** Example rows per table and kind of change (default 5; 0 for none). */
  samples?: number;
  /** Aborting stops the plan at its next safe point; it rolls back as it always does. */
  signal?: AbortSignal;
}

/** One import, with every option normalised and checked: what the phases run from. */
export interface RunPlan {
  /** `plan`: the same run, ending in ROLLBACK as its normal outcome (no lock, no backup, TEMP staging only). */
  mode: "import" | "plan";
  runId: string;
  release: string;
  releaseConfig: ReleaseConfig;
  target: Target;
  backup: "off" | "tables" | "full";
  /** `--strategy`: the replace strategy of every replace table. */
  strategy: StrategyName | undefined;
  /** `--batch-size`: rows per batch of every table. */
  batchSize: number | undefined;
  waitMs: number | undefined;
  hooks: RunHooks;
  signal: AbortSignal | undefined;
  /** Postgres schema of the targets. */
  schema: string;
  /** Absolute folder of the backups. */
  backupDir: string;
  config: LoadedConfig;
  client: ClientFactory;
  /** Schema of the ledger (config `ledgerSchema`). */
  ledgerSchema: string;
  expectPlan: string | null;
  redeploy: boolean;
  /** A plan's example rows per table and kind. */
  samples: number;
}

/**
 * Normalises and checks an import's options once, before anything connects: the release,
 * the environment and its rules (see {@link resolveTarget}), the backup mode.
 *
 * @example const plan = resolveRun(config, { release: "league-2026", env: "staging" })
 */
export function resolveRun(config: LoadedConfig, opts: ImportOptions & { samples?: number }, mode: RunPlan["mode"] = "import"): RunPlan {
  // an unknown environment first: it is the bigger mistake
  resolveEnvironment(config, opts.env ?? process.env.ETL_ENV ?? "local");
  const releaseConfig = resolveRelease(config, opts.release);
  if (!releaseConfig) {
    throw new EtlError(
      "UNKNOWN_RELEASE",
      `unknown release "${opts.release}"; configured: ${Object.keys(config.releases).join(", ") || "none"}`,
      { step: "config" },
    );
  }
  // a plan writes nothing, so production's --force rule has nothing to guard
  const target = resolveTarget(config, { env: opts.env, force: mode === "plan" || opts.force, url: opts.url, danger: "run" });
  if (opts.expectPlan !== undefined && !PLAN_HASH_PATTERN.test(opts.expectPlan)) {
    throw new EtlError(
      "USAGE",
      `--expect-plan takes a plan hash (12 to 64 hex digits, as atomic-etl plan prints it), got "${opts.expectPlan}"`,
      {
        step: "config",
      },
    );
  }
  if (opts.expectPlan !== undefined && releaseConfig.steps.length)
    throw new EtlError("USAGE", `release "${opts.release}" has steps, which a plan does not run: --expect-plan cannot cover them`, {
      step: "config",
    });
  if (mode === "import" && opts.backup === false && !target.settings.allowNoBackup) {
    throw new EtlError(
      "NO_BACKUP_FORBIDDEN",
      `${target.env} does not allow --no-backup (set environments.${target.env}.allowNoBackup in the config to permit it)`,
      { step: "config" },
    );
  }
  return {
    mode,
    runId: randomUUID(),
    release: opts.release,
    releaseConfig,
    target,
    backup: mode === "plan" || opts.backup === false ? "off" : typeof opts.backup === "string" ? opts.backup : target.settings.backup,
    strategy: opts.strategy,
    batchSize: opts.batchSize,
    waitMs: opts.waitMs,
    hooks: opts.hooks ?? {},
    signal: opts.signal,
    schema: config.schema,
    backupDir: path.resolve(config.root, config.backupDir),
    config,
    client: config.client,
    ledgerSchema: config.ledgerSchema,
    expectPlan: opts.expectPlan ?? null,
    // a step is code: what it would write cannot be known from the release, so it always runs
    redeploy: (opts.redeploy ?? false) || releaseConfig.steps.length > 0,
    samples: opts.samples ?? 5,
  };
}

/**
 * How each configured table maps onto the database: its Prisma model (or table name),
 * field ↔ column names. Every unknown model and every table named twice is reported at once.
 */
export function mapTables(plan: RunPlan, dm: RuntimeDataModel | undefined, defaults: ClientDefaults = new Map()): TableMapping[] {
  const problems: string[] = [];
  const mappings: TableMapping[] = [];
  for (const entry of plan.releaseConfig.tables) {
    try {
      const m = mapModel(entry, dm);
      mappings.push({ ...m, clientDefaults: clientDefaultsOf(dm, defaults, m) });
    } catch (e) {
      if (!(e instanceof EtlError)) throw e;
      problems.push(e.message);
    }
  }
  const names = mappings.map((m) => m.table);
  for (const dup of new Set(names.filter((n, i) => names.indexOf(n) !== i)))
    problems.push(`table ${dup} appears twice in release ${plan.release}`);
  if (problems.length === 1) throw new EtlError("CONFIG_INVALID", problems[0] as string, { step: "config", runId: plan.runId });
  if (problems.length) throw new ConfigError(problems, { runId: plan.runId });
  return mappings;
}

/**
 * Binds the release's tables to the catalog: one {@link TablePlan} per table, parents
 * first, with its strategy (after --strategy; a merge table is never replaced), scope,
 * merge options and batch sizes. Tables joined by an FK must share a strategy.
 */
export function planTables(
  plan: RunPlan,
  files: readonly ReleaseFile[],
  mappings: readonly TableMapping[],
  catalog: ReadonlyMap<string, TableInfo>,
): { tables: TablePlan[]; load: LoadPlan } {
  const release = plan.releaseConfig;
  const load = planLoadOrder(
    catalog,
    mappings.map((m) => m.table),
  );
  const byName = new Map(
    mappings.map((mapping, i) => {
      const file = files[i] as ReleaseFile;
      const configured = file.entry.strategy ?? release.strategy;
      const info = catalog.get(mapping.table) as TableInfo;
      checkTableSchema(file.entry.schema, mapping, info);
      const t: TablePlan = {
        name: mapping.table,
        info,
        mapping,
        entry: file.entry,
        file,
        strategy: configured === "merge" ? "merge" : (plan.strategy ?? configured),
        scope: file.entry.scope ?? release.scope ?? null,
        merge: file.entry.merge,
        selfReferencing: load.selfReferencing.has(mapping.table),
        batchSize: plan.batchSize ?? file.entry.batchSize ?? plan.target.settings.batchSize,
        maxBatchBytes: plan.target.settings.maxBatchBytes,
      };
      return [mapping.table, t] as const;
    }),
  );
  const tables = load.loadOrder.map((n) => byName.get(n) as TablePlan);
  for (const t of tables) {
    for (const fk of t.info.foreignKeys) {
      const parent = tables.find((x) => x.name === fk.references.name && x.info.schema === fk.references.schema);
      if (parent && parent.strategy !== t.strategy) {
        throw new EtlError(
          "CONFIG_INVALID",
          `${t.name} (${t.strategy}) references ${parent.name} (${parent.strategy}): tables joined by a foreign key must use the same strategy`,
          { step: "config", runId: plan.runId },
        );
      }
    }
  }
  return { tables, load };
}

/** The client-side defaults of a table's model (for a table configured by name, the model mapped onto it), by column. */
function clientDefaultsOf(dm: RuntimeDataModel | undefined, defaults: ClientDefaults, m: TableMapping): ColumnDefaults | null {
  if (!dm || defaults.size === 0) return null;
  const model = m.model ?? Object.entries(dm.models).find(([name, x]) => (x.dbName ?? name) === m.table)?.[0];
  const fields = model === undefined ? undefined : dm.models[model]?.fields;
  if (!model || !fields) return null;
  return columnDefaults(defaults, model, new Map(fields.map((f) => [f.name, f.dbName ?? f.name])));
}
