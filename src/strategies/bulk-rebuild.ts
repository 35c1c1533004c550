import { execute, query, type TxLike } from "../db/prisma-like.js";
import { pgErrorInfo } from "../db/pg-errors.js";
import { inSavepoint } from "../db/savepoint.js";
import { orphanRows } from "../sql/bulk.js";
import { constraintDefinition, type ForeignKeyInfo, ownsTables, secondaryIndexes, type TableInfo } from "../sql/catalog.js";
import { addConstraint, analyze, dropConstraint, dropIndex } from "../sql/ddl.js";
import { maintenanceWorkMem } from "../sql/session.js";

/** An FK whose re-validation found a child row without a parent; the runner names the record. */
export class OrphanFound extends Error {
  constructor(
    readonly fk: ForeignKeyInfo,
    readonly values: unknown[],
  ) {
    super(`${fk.table.name} has ${fk.columns.join(", ")} = ${JSON.stringify(values)}, which is not in ${fk.references.name}`);
  }
}

export interface BulkRebuild {
  /** Recreates the dropped indexes and FKs (each FK validated in one join), then ANALYZEs. */
  rebuild(tx: TxLike): Promise<{ indexes: number; foreignKeys: number }>;
}

const SAVEPOINT = "atomic_etl_fk";

/**
 * Bulk mode of a replace into freshly truncated tables: the transaction already holds ACCESS
 * EXCLUSIVE locks, so it drops the targets' secondary (non-unique) indexes and the FKs among
 * them, loads, and rebuilds them once. One index build and one FK join replace a B-tree
 * insert and an RI trigger per row — the way pg_restore loads (measured ~2x on the example
 * schema; README "Benchmarks"). Primary keys and unique indexes stay, so duplicates are still
 * caught per batch. Everything is DDL inside the transaction: a rollback restores it all.
 * Returns null (no bulk mode) when the role does not own every target.
 */
export async function deferIndexesAndForeignKeys(tx: TxLike, targets: readonly TableInfo[]): Promise<BulkRebuild | null> {
  const names = targets.map((t) => t.name);
  const schema = targets[0]?.schema ?? "public";
  // DDL needs ownership: a role with only DML (and TRUNCATE) privileges loads row by row instead.
  const [owns] = await query<{ ok: boolean }>(tx, ownsTables(schema, names));
  if (!owns?.ok) return null;
  const inGroup = (fk: ForeignKeyInfo) => fk.references.schema === schema && names.includes(fk.references.name);
  const fks = targets.flatMap((t) => t.foreignKeys.filter(inGroup));
  const definitions = new Map<ForeignKeyInfo, string>();
  for (const fk of fks) {
    const [d] = await query<{ definition: string }>(tx, constraintDefinition(fk.table, fk.name));
    if (d) definitions.set(fk, d.definition);
  }
  const indexes = await query<{ table_name: string; index_name: string; definition: string }>(tx, secondaryIndexes(schema, names));
  for (const fk of definitions.keys()) await execute(tx, dropConstraint(fk));
  for (const i of indexes) await execute(tx, dropIndex(schema, i.index_name));

  return {
    async rebuild(tx) {
      await query(tx, maintenanceWorkMem());
      for (const i of indexes) await execute(tx, { text: i.definition, values: [] });
      for (const [fk, definition] of definitions) {
        // an FK that does not hold: find the row that breaks it, in the transaction as it was
        const added = await inSavepoint(
          tx,
          SAVEPOINT,
          () => execute(tx, addConstraint(fk, definition)),
          (e) => pgErrorInfo(e).sqlstate === "23503",
        );
        if (added.ok) continue;
        const [orphan] = await query<Record<string, unknown>>(tx, orphanRows(fk.table, fk.columns, fk.references, fk.referencedColumns));
        if (!orphan) throw added.error;
        throw new OrphanFound(
          fk,
          fk.columns.map((c) => orphan[c]),
        );
      }
      for (const t of targets) await execute(tx, analyze(t));
      return { indexes: indexes.length, foreignKeys: definitions.size };
    },
  };
}
