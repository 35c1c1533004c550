import { query, type TxLike } from "../db/prisma-like.js";
import type { QualifiedName } from "../sql/quote.js";
import type { ForeignKeyDef } from "../sql/ddl.js";
import {
  aclDifference,
  columnSettings,
  grantsOf,
  indexAndStatisticsShapes,
  oidDependents,
  outgoingForeignKeys,
  ownedSequences,
  tableFacts,
} from "../sql/swap-catalog.js";

/**
 * Catalog reads of the swap (pg_catalog only): what a table carries that a new table must
 * carry too, and what depends on the table's OID. Every query takes `$1` = schema and
 * `$2` = table names.
 */

/** Table-level facts of a swap target. */
export interface TableFacts {
  name: string;
  owner: string;
  /** Can the current role act as the owner (needed to drop and replace the table)? */
  mayOwn: boolean;
  unlogged: boolean;
  tablespace: string | null;
  comment: string | null;
  options: [string, string][];
  hasToastOptions: boolean;
  replicaIdentity: "d" | "n" | "f" | "i";
  replicaIndex: string | null;
  /** Refusals that are not pg_depend entries: partitioning, inheritance, typed tables, row security. */
  shapeProblems: string[];
}

interface FactsRow {
  name: string;
  owner: string;
  may_own: boolean;
  unlogged: boolean;
  tablespace: string | null;
  comment: string | null;
  options: string[];
  toast_options: boolean;
  replica_identity: TableFacts["replicaIdentity"];
  replica_index: string | null;
  partitioned: boolean;
  partition: boolean;
  typed: boolean;
  row_security: boolean;
  force_row_security: boolean;
  inherits: boolean;
}

const splitOption = (o: string): [string, string] => {
  const i = o.indexOf("=");
  return i < 0 ? [o, ""] : [o.slice(0, i), o.slice(i + 1)];
};

export async function readTableFacts(tx: TxLike, schema: string, names: readonly string[]): Promise<Map<string, TableFacts>> {
  const rows = await query<FactsRow>(tx, tableFacts(schema, names));
  return new Map(
    rows.map((r) => {
      const shapeProblems = [
        r.partitioned && "it is partitioned",
        r.partition && "it is a partition",
        r.inherits && "it takes part in table inheritance",
        r.typed && "it is a typed table (OF type)",
        r.row_security && "row level security is enabled on it",
        r.force_row_security && "row level security is forced on it",
        r.toast_options && "its TOAST table has storage parameters",
      ].filter((p): p is string => typeof p === "string");
      return [
        r.name,
        {
          name: r.name,
          owner: r.owner,
          mayOwn: r.may_own,
          unlogged: r.unlogged,
          tablespace: r.tablespace,
          comment: r.comment,
          options: r.options.map(splitOption),
          hasToastOptions: r.toast_options,
          replicaIdentity: r.replica_identity,
          replicaIndex: r.replica_index,
          shapeProblems,
        },
      ];
    }),
  );
}

/** Per-column settings LIKE does not copy: attribute options (n_distinct …) and statistics targets. */
export interface ColumnSettings {
  table: string;
  column: string;
  options: [string, string][];
  statisticsTarget: number | null;
}

export async function readColumnSettings(tx: TxLike, schema: string, names: readonly string[]): Promise<ColumnSettings[]> {
  const rows = await query<{ table_name: string; column: string; options: string[]; statistics_target: number | null }>(
    tx,
    columnSettings(schema, names),
  );
  return rows.map((r) => ({
    table: r.table_name,
    column: r.column,
    options: r.options.map(splitOption),
    statisticsTarget: r.statistics_target === null ? null : Number(r.statistics_target),
  }));
}

/** A sequence owned by a column: serial (`identity: false`) or identity. */
export interface OwnedSequence {
  table: string;
  column: string;
  sequence: QualifiedName;
  identity: boolean;
}

export async function readOwnedSequences(tx: TxLike, schema: string, names: readonly string[]): Promise<OwnedSequence[]> {
  const rows = await query<{ table_name: string; column: string; seq_schema: string; seq_name: string; identity: boolean }>(
    tx,
    ownedSequences(schema, names),
  );
  return rows.map((r) => ({
    table: r.table_name,
    column: r.column,
    sequence: { schema: r.seq_schema, name: r.seq_name },
    identity: r.identity,
  }));
}

/** An FK of a swap target, complete enough to be recreated on the new table. */
export interface OutgoingForeignKey {
  table: string;
  references: QualifiedName;
  def: ForeignKeyDef;
}

export async function readForeignKeys(tx: TxLike, schema: string, names: readonly string[]): Promise<OutgoingForeignKey[]> {
  const rows = await query<{
    table_name: string;
    name: string;
    ref_schema: string;
    ref_table: string;
    columns: string[];
    ref_columns: string[];
    set_columns: string[];
    on_update: string;
    on_delete: string;
    match_full: boolean;
    deferrable: boolean;
    deferred: boolean;
  }>(tx, outgoingForeignKeys(schema, names));
  return rows.map((r) => ({
    table: r.table_name,
    references: { schema: r.ref_schema, name: r.ref_table },
    def: {
      name: r.name,
      columns: r.columns,
      referencedColumns: r.ref_columns,
      onUpdate: r.on_update,
      onDelete: r.on_delete,
      onDeleteColumns: r.set_columns,
      matchFull: r.match_full,
      deferrable: r.deferrable,
      initiallyDeferred: r.deferred,
    },
  }));
}

export async function readDependents(tx: TxLike, schema: string, names: readonly string[]): Promise<{ table: string; what: string }[]> {
  const rows = await query<{ table_name: string; what: string }>(tx, oidDependents(schema, names));
  return rows.map((r) => ({ table: r.table_name, what: r.what }));
}

/** Indexes and extended statistics with a name-free description of their shape, oldest first. */
export interface NamedShape {
  table: string;
  kind: "INDEX" | "STATISTICS";
  name: QualifiedName;
  shape: string;
}

export async function readShapes(tx: TxLike, schema: string, names: readonly string[]): Promise<NamedShape[]> {
  const rows = await query<{ table_name: string; kind: NamedShape["kind"]; schema: string; name: string; shape: string }>(
    tx,
    indexAndStatisticsShapes(schema, names),
  );
  return rows.map((r) => ({ table: r.table_name, kind: r.kind, name: { schema: r.schema, name: r.name }, shape: r.shape }));
}

/** One privilege held by a role other than the owner (grantee null = PUBLIC), on the table or one column. */
export interface Grant {
  privilege: string;
  grantee: string | null;
  grantable: boolean;
  column: string | null;
}

export async function readGrants(tx: TxLike, table: string): Promise<Grant[]> {
  const rows = await query<Grant & { owner: boolean }>(tx, grantsOf(table));
  return rows.map((r) => ({ privilege: r.privilege, grantee: r.grantee, grantable: r.grantable, column: r.column }));
}

/** Privileges one table has and the other lacks, both ways, as readable lines. */
export async function aclDifferences(tx: TxLike, a: string, b: string): Promise<string[]> {
  const rows = await query<{
    side: string;
    grantor: string;
    grantee: string | null;
    privilege: string;
    grantable: boolean;
    column: string | null;
  }>(tx, aclDifference(a, b));
  return rows.map(
    (r) =>
      `${r.side} ${r.privilege}${r.column ? ` (${r.column})` : ""} to ${r.grantee ?? "PUBLIC"} granted by ${r.grantor}${r.grantable ? " with grant option" : ""}`,
  );
}
