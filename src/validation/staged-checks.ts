import type { Scope } from "../config/schema.js";
import { execute, query, type TxLike } from "../db/prisma-like.js";
import { pgErrorInfo } from "../db/pg-errors.js";
import { inSavepoint } from "../db/savepoint.js";
import { EtlError } from "../errors.js";
import { type RefusalPlace, type RefusedKey, RecordRefusal } from "./record-refusal.js";
import type { TableInfo } from "../sql/catalog.js";
import type { QualifiedName } from "../sql/quote.js";
import { countRows } from "../sql/bulk.js";
import { dropIndex } from "../sql/ddl.js";
import { maintenanceWorkMem } from "../sql/session.js";
import {
  collisionsOutsideScope,
  duplicateKeys,
  type FinalRows,
  finalOrphans,
  referencesToDeleted,
  rowsOutsideScope,
  UNIQUE_PROBE,
  uniqueProbe,
} from "../sql/staging.js";

/** A target and where its release rows wait for the final phase. */
export interface StagedTarget {
  info: TableInfo;
  stage: QualifiedName;
  /** Only these rows are replaced (`scoped`); null: all of them. */
  scope: Scope | null;
}

type Row = Record<string, unknown>;

/** The refused key of staged row `r`: its values of `columns`. */
const refused = (s: StagedTarget, columns: readonly string[], r: Row, repeat: boolean, say: RefusedKey["say"]): RefusedKey => ({
  table: s.info.name,
  columns,
  values: columns.map((c) => r[c]),
  repeat,
  say,
});
const show = (r: Row, cols: readonly string[]) =>
  cols.map((c) => `${c} = ${JSON.stringify(r[c], (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`).join(", ");
const sameTable = (a: QualifiedName, b: QualifiedName) => a.schema === b.schema && a.name === b.name;

/**
 * Validates the staged rows against the state the final phase will produce, before any
 * target is touched: scope, unique keys, FKs (a child's FK resolves in its parent's staging
 * table when the parent is a target, else in the real parent) and rows outside the run that
 * reference rows it deletes. Returns the staged row count of each table.
 */
export async function checkStaged(
  tx: TxLike,
  targets: readonly TableInfo[],
  staged: ReadonlyMap<string, StagedTarget>,
  log: (msg: string, fields: Record<string, unknown>) => void,
): Promise<Map<string, number>> {
  const started = performance.now();
  const counts = new Map<string, number>();
  // once for the unique-key probes of every table (set_config(…, true): until the transaction ends)
  if (targets.some((t) => t.uniqueKeys.length)) await query(tx, maintenanceWorkMem());
  for (const t of targets) {
    const s = staged.get(t.name) as StagedTarget;
    if (s.scope) await checkScope(tx, s, s.scope);
    await checkUniqueKeys(tx, s);
    await checkForeignKeys(tx, s, staged);
    await checkIncomingReferences(tx, s, staged);
    const [n] = await query<{ n: bigint | number }>(tx, countRows(s.stage));
    counts.set(t.name, Number(n?.n ?? 0));
  }
  log("staging validated", {
    tables: counts.size,
    rows: [...counts.values()].reduce((a, b) => a + b, 0),
    durationMs: Math.round(performance.now() - started),
  });
  return counts;
}

async function checkScope(tx: TxLike, s: StagedTarget, scope: Scope): Promise<void> {
  const cols = Object.keys(scope);
  const [r] = await query<Row>(tx, rowsOutsideScope(s.stage, scope));
  if (!r) return;
  const key = refused(
    s,
    cols,
    r,
    false,
    (p) => `${p.at} has ${p.field} = ${p.value}, outside the release's scope ${JSON.stringify(scope)}`,
  );
  throw new RecordRefusal("VALIDATION_FAILED", key, {
    step: "validate",
    meta: { scope },
    next: "remove those rows from the release, or configure the scope that owns them",
  });
}

/**
 * True when the staged rows hold no two equal values of `columns`: a unique index is built in
 * a savepoint and dropped again (the fast answer); false on its duplicate-key error, which
 * leaves the staging table as it was.
 */
async function keysAreUnique(tx: TxLike, stage: QualifiedName, columns: readonly string[]): Promise<boolean> {
  const built = await inSavepoint(
    tx,
    UNIQUE_PROBE,
    async () => {
      await execute(tx, uniqueProbe(stage, columns));
      await execute(tx, dropIndex(stage.schema, UNIQUE_PROBE));
    },
    (e) => pgErrorInfo(e).sqlstate === "23505",
  );
  return built.ok;
}

async function checkUniqueKeys(tx: TxLike, s: StagedTarget): Promise<void> {
  for (const key of s.info.uniqueKeys) {
    // only a probe that found a duplicate pays for the query that names the records
    const [dup] = (await keysAreUnique(tx, s.stage, key.columns))
      ? []
      : await query<Row & { n: bigint | number }>(tx, duplicateKeys(s.stage, key.columns));
    if (dup) {
      const rows = Number(dup.n);
      const say = (p: RefusalPlace) =>
        p.earlier === undefined
          ? `${p.at}: ${rows} rows have ${p.field} = ${p.value} (unique key ${key.name})`
          : `${p.at} repeats ${p.field} = ${p.value} of record #${p.earlier} (unique key ${key.name})`;
      throw new RecordRefusal("DUPLICATE_KEY", refused(s, key.columns, dup, true, say), {
        step: "validate",
        meta: { constraint: key.name, rows },
        next: "remove the duplicates from the release",
      });
    }
    if (!s.scope) continue;
    const [hit] = await query<Row>(tx, collisionsOutsideScope(s.stage, s.info, key.columns, s.scope));
    if (hit) {
      const scope = JSON.stringify(s.scope);
      const say = (p: RefusalPlace) =>
        `${p.at}: ${p.field} = ${p.value} collides with a row outside the scope ${scope} (unique key ${key.name})`;
      throw new RecordRefusal("DUPLICATE_KEY", refused(s, key.columns, hit, false, say), {
        step: "validate",
        meta: { constraint: key.name, scope: s.scope },
        next: "keys must be unique across scopes: fix the release, or the row that holds the key",
      });
    }
  }
}

async function checkForeignKeys(tx: TxLike, s: StagedTarget, staged: ReadonlyMap<string, StagedTarget>): Promise<void> {
  for (const fk of s.info.foreignKeys) {
    const parent = [...staged.values()].find((p) => sameTable(p.info, fk.references));
    const parentRows: FinalRows = parent
      ? { table: parent.info, stage: parent.stage, scope: parent.scope }
      : { table: fk.references, stage: null, scope: null };
    // rows kept outside the scope only need checking when their parent changes too
    const childRows: FinalRows = { table: s.info, stage: s.stage, scope: parent ? s.scope : null };
    const [orphan] = await query<Row>(tx, finalOrphans(childRows, fk.columns, parentRows, fk.referencedColumns));
    if (!orphan) continue;
    const as = parent ? " as the release leaves it" : "";
    const say = (p: RefusalPlace) =>
      `${p.at} has ${p.field} = ${p.value}, which is not in ${fk.references.name} (${fk.referencedColumns.join(", ")})${as} (${fk.name})`;
    throw new RecordRefusal("FK_VIOLATION", refused(s, fk.columns, orphan, false, say), {
      step: "validate",
      meta: { constraint: fk.name },
      next: parent
        ? `add the missing ${fk.references.name} rows to the release, or drop the rows that reference them`
        : `load the missing ${fk.references.name} rows first, or drop the rows that reference them`,
    });
  }
}

async function checkIncomingReferences(tx: TxLike, s: StagedTarget, staged: ReadonlyMap<string, StagedTarget>): Promise<void> {
  for (const fk of s.info.referencedBy) {
    if ([...staged.values()].some((c) => sameTable(c.info, fk.table))) continue;
    const [r] = await query<Row>(tx, referencesToDeleted(fk.table, fk.columns, s.info, fk.referencedColumns, s.scope));
    if (!r) continue;
    throw new EtlError(
      "FK_VIOLATION",
      `${fk.table.name} (not in the release) has rows that reference ${s.info.name} rows this run deletes, e.g. ${show(r, fk.columns)} (${fk.name})`,
      {
        step: "validate",
        table: fk.table.name,
        field: fk.columns.join(", "),
        meta: { constraint: fk.name, value: fk.columns.map((c) => r[c]) },
        next: `add ${fk.table.name} to the release (same strategy), or use merge, which keeps rows whose keys stay`,
      },
    );
  }
}
