import type { EnvironmentSettings } from "../config/environments.js";
import type { Fingerprint } from "../db/fingerprint.js";
import type { TxLike } from "../db/prisma-like.js";
import type { PlannedTable } from "../plan/planned-table.js";
import type { TablePlan } from "../planner/table-plan.js";
import type { LockMode } from "../sql/locks.js";
import type { QualifiedName } from "../sql/quote.js";

/** What a strategy gets to work with, inside the one transaction. */
export interface StrategyContext {
  tx: TxLike;
  /** This strategy's tables, parents first. */
  tables: readonly TablePlan[];
  settings: EnvironmentSettings;
  /** `plan`: the run ends in ROLLBACK, so no target may be written, locked for writing or truncated. */
  mode: "import" | "plan";
  /** A plan's example rows per table and kind of change. */
  samples: number;
  /** The targets' fingerprints before the run. */
  before: Readonly<Record<string, Fingerprint>>;
  /** What the load phase put into each table's load target (empty until it ran). */
  loaded: ReadonlyMap<string, LoadedTable>;
  log: (msg: string, fields: Record<string, unknown>) => void;
  /** A warning (e.g. a strategy falling back to `direct`). */
  warn: (msg: string, fields: Record<string, unknown>) => void;
}

/** One table's load: its record count, and (for merge tables) the columns at least one record mentions. */
export interface LoadedTable {
  records: number;
  columns: ReadonlySet<string> | null;
}

/**
 * What the final phase did to one table: exact counts, never placeholders. `deleted` is null
 * only for `swap`, which drops the old table whole (counting it would hold readers for a scan
 * inside the few milliseconds the swap blocks them).
 */
export interface ApplyCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number | null;
  duplicatesInSource: number;
  /** duplicatesInSource / records loaded (0..1), where the strategy deduplicates. */
  duplicateRate?: number;
}

/**
 * A strategy: how a table's old rows give way to the release's rows. One instance serves
 * all the tables that use it; every call runs in the one transaction.
 *
 * - `prepare`: before any row is loaded (refuse up front, clear targets, create staging …)
 * - `loadTarget`: the relation each table's batches go into
 * - `tableLoaded`: after one table's file is loaded, before the next (its children's) begins
 * - `validate`: after loading, before the final phase (FK integrity against the final state …)
 * - `diff`: what the final phase will change, computed without changing a target (merge;
 *   every {@link Planner}); in a plan it reports the changes per table
 * - `finish`: the final phase; makes the loaded rows the tables' rows
 */
export interface Strategy {
  readonly name: string;
  prepare(ctx: StrategyContext): Promise<void>;
  loadTarget(table: TablePlan): QualifiedName;
  tableLoaded?(ctx: StrategyContext, table: TablePlan): Promise<void>;
  validate(ctx: StrategyContext): Promise<void>;
  diff?(ctx: StrategyContext): Promise<Record<string, PlannedTable>>;
  finish(ctx: StrategyContext): Promise<Record<string, ApplyCounts>>;
}

/** The lock a strategy's final phase takes, and for how long readers and writers feel it. */
export interface FinalLock {
  strategy: string;
  mode: LockMode;
  tables: string[];
  /** `whole run`: from the clear to COMMIT (direct); `final phase`; `rename`: one round trip (swap). */
  held: "whole run" | "final phase" | "rename";
}

/**
 * A strategy as a plan runs it: the same refusals and checks, but the release only ever goes
 * into TEMP staging, `diff` compares it with the targets, and `finish` never runs.
 */
export interface Planner extends Strategy {
  diff(ctx: StrategyContext): Promise<Record<string, PlannedTable>>;
  finalLock(ctx: StrategyContext): FinalLock;
  /** Per table, a SELECT of the rows it would hold after the final phase (what the plan's checks see). */
  finalRows(ctx: StrategyContext): Record<string, string>;
}

/** The tables' catalog entries, parents first. */
export const infosOf = (ctx: StrategyContext) => ctx.tables.map((t) => t.info);

/** duplicatesInSource / records loaded, to 4 decimals (the report's `duplicateRate`). */
export const duplicateRate = (duplicates: number, staged: number) => (staged ? Math.round((duplicates / staged) * 10_000) / 10_000 : 0);
