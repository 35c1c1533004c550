import type { Scope } from "../config/schema.js";
import { query, type TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import type { TableInfo } from "../sql/catalog.js";
import type { QualifiedName } from "../sql/quote.js";
import { countRows } from "../sql/bulk.js";
import {
  collisionsOutsideScope,
  duplicateKeys,
  type FinalRows,
  finalOrphans,
  referencesToDeleted,
  rowsOutsideScope,
} from "../sql/staging.js";

/** A target and where its release rows wait for the final phase. */
export interface StagedTarget {
  info: TableInfo;
  stage: QualifiedName;
  /** Only these rows are replaced (`scoped`); null: all of them. */
  scope: Scope | null;
}

type Row = Record<string, unknown>;

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
  throw new EtlError(
    "VALIDATION_FAILED",
    `${s.info.name}: the release holds rows outside its scope ${JSON.stringify(scope)}, e.g. a row with ${show(r, cols)}`,
    {
      step: "validate",
      table: s.info.name,
      field: cols.join(", "),
      meta: { scope, example: r },
      next: "remove those rows from the release, or configure the scope that owns them",
    },
  );
}

async function checkUniqueKeys(tx: TxLike, s: StagedTarget): Promise<void> {
  for (const key of s.info.uniqueKeys) {
    const [dup] = await query<Row & { n: bigint | number }>(tx, duplicateKeys(s.stage, key.columns));
    if (dup) {
      throw new EtlError(
        "DUPLICATE_KEY",
        `${s.info.name}: the release holds ${Number(dup.n)} rows with ${show(dup, key.columns)} (unique key ${key.name})`,
        {
          step: "validate",
          table: s.info.name,
          field: key.columns.join(", "),
          meta: { constraint: key.name, value: key.columns.map((c) => dup[c]), rows: Number(dup.n) },
          next: "remove the duplicates from the release",
        },
      );
    }
    if (!s.scope) continue;
    const [hit] = await query<Row>(tx, collisionsOutsideScope(s.stage, s.info, key.columns, s.scope));
    if (hit) {
      throw new EtlError(
        "DUPLICATE_KEY",
        `${s.info.name}: the release's row with ${show(hit, key.columns)} collides with a row outside the scope ${JSON.stringify(s.scope)} (unique key ${key.name})`,
        {
          step: "validate",
          table: s.info.name,
          field: key.columns.join(", "),
          meta: { constraint: key.name, value: key.columns.map((c) => hit[c]), scope: s.scope },
          next: "keys must be unique across scopes: fix the release, or the row that holds the key",
        },
      );
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
    throw new EtlError(
      "FK_VIOLATION",
      `${s.info.name}: ${show(orphan, fk.columns)} has no row in ${fk.references.name} (${fk.referencedColumns.join(", ")})${parent ? " as the release leaves it" : ""} (${fk.name})`,
      {
        step: "validate",
        table: s.info.name,
        field: fk.columns.join(", "),
        meta: { constraint: fk.name, value: fk.columns.map((c) => orphan[c]) },
        next: parent
          ? `add the missing ${fk.references.name} rows to the release, or drop the rows that reference them`
          : `load the missing ${fk.references.name} rows first, or drop the rows that reference them`,
      },
    );
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
