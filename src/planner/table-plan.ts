import type { MergeOptions, Scope, StrategyName, TableConfig } from "../config/schema.js";
import type { ReleaseFile } from "../release/release-files.js";
import type { TableInfo } from "../sql/catalog.js";
import type { TableMapping } from "../validation/table-mapping.js";

/**
 * Everything a run knows about one table of its release, resolved once: the config entry, the
 * catalog, how the file's keys map onto columns, where the file is, and how the table is
 * replaced. Strategies, the loader and the diagnosis all work from it.
 */
export interface TablePlan {
  /** The table's name in the database. */
  name: string;
  info: TableInfo;
  mapping: TableMapping;
  entry: TableConfig;
  file: ReleaseFile;
  /** The strategy that replaces (or merges into) this table, after --strategy. */
  strategy: StrategyName;
  /** `scoped`: the rows of the table the release owns; null for all of them. */
  scope: Scope | null;
  /** `merge` options (undefined: all defaults). */
  merge: MergeOptions | undefined;
  /** The table has an FK to itself. */
  selfReferencing: boolean;
  batchSize: number;
  maxBatchBytes: number;
}
