import type { TxLike } from "../db/prisma-like.js";
import type { LoadPlan } from "../planner/fk-order.js";
import type { TableInfo } from "../sql/catalog.js";
import type { QualifiedName } from "../sql/quote.js";

/** What a replace strategy gets to work with, inside the one transaction. */
export interface StrategyContext {
  tx: TxLike;
  tables: ReadonlyMap<string, TableInfo>;
  plan: LoadPlan;
  log: (msg: string, fields: Record<string, unknown>) => void;
}

/**
 * A replace strategy: how the targets' old rows give way to the release's rows.
 * All of it runs in the one transaction; validation runs between `load` and `finish`.
 *
 * - `prepare`: before any row is loaded (clear targets, create staging …)
 * - `loadTarget`: the relation each table's batches go into
 * - `finish`: after validation, make the loaded rows the table's rows
 */
export interface ReplaceStrategy {
  readonly name: string;
  prepare(ctx: StrategyContext): Promise<void>;
  loadTarget(table: TableInfo): QualifiedName;
  finish(ctx: StrategyContext): Promise<void>;
}
