import type { EnvironmentSettings } from "../config/environments.js";
import type { TxLike } from "../db/prisma-like.js";
import type { LoadPlan } from "../planner/fk-order.js";
import type { TableInfo } from "../sql/catalog.js";
import type { QualifiedName } from "../sql/quote.js";

/** What a strategy gets to work with, inside the one transaction. */
export interface StrategyContext {
  tx: TxLike;
  /** Catalog of every target of the release. */
  tables: ReadonlyMap<string, TableInfo>;
  plan: LoadPlan;
  /** This strategy's tables, parents first. */
  targets: readonly TableInfo[];
  /** Where each target of the release is being loaded (its own table, or a staging table). */
  loadTargetOf: (table: string) => QualifiedName;
  settings: EnvironmentSettings;
  log: (msg: string, fields: Record<string, unknown>) => void;
}

/** What the final phase did to one table. */
export interface ApplyCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  duplicatesInSource: number;
}

/**
 * A strategy: how a table's old rows give way to the release's rows. One instance serves
 * all the tables that use it; every call runs in the one transaction.
 *
 * - `prepare`: before any row is loaded (clear targets, create staging …)
 * - `loadTarget`: the relation each table's batches go into
 * - `validate`: after loading, before the final phase (FK integrity against the final state …)
 * - `finish`: the final phase; makes the loaded rows the tables' rows
 */
export interface Strategy {
  readonly name: string;
  prepare(ctx: StrategyContext): Promise<void>;
  loadTarget(table: TableInfo): QualifiedName;
  validate(ctx: StrategyContext): Promise<void>;
  finish(ctx: StrategyContext): Promise<Record<string, ApplyCounts>>;
}
