import type { MaskRule } from "../config/samples-schema.js";
import type { ForeignKeyInfo, TableInfo } from "../sql/catalog.js";
import type { RootSelection } from "../sql/sample-statements.js";

/** A table of the source as the sampler sees it. */
export interface SourceTable extends TableInfo {
  partitioned: boolean;
  /** A partitioned table with a foreign-table partition (no ctids of its own): it can only be taken whole. */
  foreignLeaves?: boolean;
}

/** A child edge to follow from a parent's rows: at most `cap` children per parent row. */
export interface ChildEdge {
  fk: ForeignKeyInfo;
  cap: number;
  /** The name the config used (relation, FK or table). */
  name: string;
}

/** One column's mask: its rule and, for an FK column, the key column it inherits it from. */
export interface ColumnMask {
  rule: MaskRule;
  /** `email`, `fixed`, `fn:<name>` … as the manifest names it. */
  ruleName: string;
  /** `table.column` of the key this FK column references, when inherited. */
  inheritedFrom: string | null;
}

export interface TablePlan {
  table: SourceTable;
  model: string | null;
  /** Output file name inside the release directory. */
  file: string;
  /** Where this table's own selection starts; null when its rows are only pulled in by others. */
  root: Omit<RootSelection, "table"> | null;
  /** Every row, streamed by COPY; no key set is kept. */
  full: boolean;
  children: ChildEdge[];
  masks: Map<string, ColumnMask>;
}

/**
 * What `export` or `sample` will do, decided before anything is read: the output tables in
 * load order, how each is selected, which plan runs and why.
 */
export interface SamplePlan {
  kind: "export" | "sample";
  name: string;
  /** Output tables, parents first. */
  tables: TablePlan[];
  /**
   * `direct`: every table streamed whole, nothing kept in memory; `one-query`: the parent
   * closure is one statement on the server, its row ids kept here; `keyset`: row-id sets closed
   * in this process, in rounds (FK cycles, included children).
   */
  mode: "direct" | "one-query" | "keyset";
  why: string[];
  /** The selection as resolved (table names), for the manifest. */
  selection: Record<string, unknown>;
  /** Whether any deterministic masker needs the secret. */
  needsSecret: boolean;
  maskSecretEnv: string;
}
