import type { EnvironmentSettings } from "../config/environments.js";
import type { MergeOptions, Scope } from "../config/schema.js";
import type { TxLike } from "../db/prisma-like.js";
import type { LoadPlan } from "../planner/fk-order.js";
import type { TableInfo } from "../sql/catalog.js";
import type { QualifiedName } from "../sql/quote.js";
import type { TableMapping } from "../validation/table-mapping.js";

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
  /** The configured `scope` of a table (its own, else the release's); used by `scoped`. */
  scopeOf: (table: string) => Scope | undefined;
  /** A table's `merge` options (undefined: all defaults) and its field ↔ column names; used by `merge`. */
  mergeOf: (table: string) => { options: MergeOptions | undefined; mapping: TableMapping };
  log: (msg: string, fields: Record<string, unknown>) => void;
  /** A warning (e.g. a strategy falling back to `direct`). */
  warn: (msg: string, fields: Record<string, unknown>) => void;
}

/** What the final phase did to one table. */
export interface ApplyCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  duplicatesInSource: number;
  /** duplicatesInSource / records loaded (0..1), where the strategy deduplicates. */
  duplicateRate?: number;
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
