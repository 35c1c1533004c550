import { type PgErrorInfo, pgErrorInfo } from "../db/pg-errors.js";
import { execute, type PrismaClientLike, query, type TxLike } from "../db/prisma-like.js";
import { inSavepoint, probeInSavepoint } from "../db/savepoint.js";
import { EtlError, type Step } from "../errors.js";
import type { TablePlan } from "../planner/table-plan.js";
import { readRecords } from "../sources/read-records.js";
import { insertBatch } from "../sql/bulk.js";
import { beforeInsertTriggers, constraintColumns, partitionTree } from "../sql/catalog.js";
import { createProbePartition, createProbeTable } from "../sql/ddl.js";
import { readWriteTransaction } from "../sql/session.js";
import { boundedName } from "../strategies/staging.js";
import { fieldName, keyModeOf } from "./diagnose-scan.js";
import { groupByDefaults, validatorFor } from "./load.js";

type Row = Record<string, unknown>;

/**
 * Refusals that belong to one record but that Postgres reports for a whole statement: CHECK
 * and domain CHECK violations, NOT NULL, no partition for the row, exclusion conflicts, and
 * values a column's type (or domain) cannot take.
 */
export const PER_RECORD_STATES = new Set(["23514", "23502", "23P01", "22001", "22003", "22007", "22008", "22P02"]);

const SAVEPOINT = "atomic_etl_probe";

/** Rolls the probe transaction back, carrying its answer out. */
class ProbeDone extends Error {
  constructor(readonly index: number | null) {
    super("probe done");
  }
}

/**
 * Finds the first of `rows` that Postgres refuses with `sqlstate`, by bisection: in a
 * transaction that is always rolled back, a TEMP table shaped like the target (its checks,
 * NOT NULLs, domains, generated columns, BEFORE INSERT triggers, unique and exclusion indexes and, for a
 * partitioned target, its partitions and their bounds; no FKs, no rows) takes prefixes of
 * the batch inside a SAVEPOINT until the shortest failing one is found. Null when the
 * refusal does not reproduce there (it depended on other rows of the target).
 */
export async function findRefusedRow(db: PrismaClientLike, t: TablePlan, rows: readonly Row[], sqlstate: string): Promise<number | null> {
  try {
    await db.$transaction(async (tx) => {
      // the tool's pool opens sessions read-only (see readOnlyByDefault); this probe writes TEMP tables
      await execute(tx, readWriteTransaction());
      const probe = await createProbe(tx, t);
      const fails = async (k: number) => (await attempt(tx, t, probe, rows.slice(0, k))) === sqlstate;
      if (!(await fails(rows.length))) throw new ProbeDone(null);
      let lo = 0;
      let hi = rows.length;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (await fails(mid)) hi = mid;
        else lo = mid;
      }
      throw new ProbeDone(hi - 1);
    });
  } catch (e) {
    if (e instanceof ProbeDone) return e.index;
    return null;
  }
  return null;
}

async function createProbe(tx: TxLike, t: TablePlan): Promise<string> {
  const name = boundedName("atomic_etl_probe_", t.name);
  if (!t.info.partitioned) {
    await execute(tx, createProbeTable(name, t.info, null));
  } else {
    const tree = await query<{ name: string; parent: string | null; leaf: boolean; bound: string | null; key: string | null }>(
      tx,
      partitionTree(t.info),
    );
    const probeName = (n: string) => (n === t.name ? name : boundedName("atomic_etl_probe_", n));
    for (const p of tree) {
      if (p.parent === null) await execute(tx, createProbeTable(name, t.info, p.key));
      else await execute(tx, createProbePartition(probeName(p.name), probeName(p.parent), p.bound ?? "DEFAULT", p.key));
    }
  }
  // the target's BEFORE INSERT triggers, so the probe fills (or leaves NULL) what they do: a record
  // may leave a NOT NULL column to a trigger, and a trigger may change what a CHECK sees. One the
  // run's role may not create (its function in a schema it has no USAGE on) is left out, in its
  // own savepoint, rather than losing the whole probe.
  for (const trigger of await query<{ definition: string }>(tx, beforeInsertTriggers(t.info, name)))
    await inSavepoint(
      tx,
      "atomic_etl_probe_trigger",
      () => execute(tx, { text: trigger.definition, values: [] }),
      () => true,
    );
  return name;
}

/** Inserts `rows` into the probe inside a savepoint that is always rolled back; the SQLSTATE it failed with, or null. */
async function attempt(tx: TxLike, t: TablePlan, probe: string, rows: readonly Row[]): Promise<string | null> {
  const into = { schema: "pg_temp", name: probe };
  const identity = new Set(t.info.columns.filter((c) => c.isIdentity).map((c) => c.name));
  const e = await probeInSavepoint(tx, SAVEPOINT, async () => {
    for (const g of groupByDefaults(t.info, [...rows]))
      await execute(
        tx,
        insertBatch(
          into,
          into,
          g.columns,
          JSON.stringify(g.rows),
          g.columns.some((c) => identity.has(c)),
        ),
      );
  });
  return e === null ? null : (pgErrorInfo(e).sqlstate ?? "unknown");
}

/** The columns a per-record refusal is about, as far as Postgres says. */
async function columnsOf(db: TxLike, t: TablePlan, info: PgErrorInfo): Promise<string[]> {
  if (info.column) return [info.column];
  // Prisma's adapter drops the column of a NOT NULL violation; its message still names it
  // (Postgres prints the name as it is, quotes unescaped)
  const notNull = /null value in column "(.+?)" (?:of relation|violates)/.exec(info.message)?.[1];
  if (notNull) return [notNull];
  const domain = /value for domain ([^\s]+) violates/.exec(info.message)?.[1]?.replace(/^.*\./, "");
  if (domain) return t.info.columns.filter((c) => c.type === domain).map((c) => c.name);
  const partitionKey = /Partition key of the failing row contains \(([^)]*)\)/.exec(info.detail ?? "")?.[1];
  if (partitionKey) return partitionKey.split(",").map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
  const constraint = info.constraint ?? /constraint "([^"]+)"/.exec(info.message)?.[1];
  if (!constraint) return [];
  const [r] = await query<{ columns: string[] | null }>(db, constraintColumns(t.info, constraint)).catch(() => []);
  return r?.columns ?? [];
}

/** The refusal named on its record: file, index, field(s), value, and Postgres' own message and DETAIL. */
export async function constraintError(
  db: PrismaClientLike,
  t: TablePlan,
  rows: readonly Row[],
  firstIndex: number,
  cause: unknown,
  step: Step,
  /** The record Postgres named by its COPY line, if it did: the answer when the refusal depended on rows of earlier batches. */
  copyRecord: number | null = null,
): Promise<EtlError | null> {
  const info = pgErrorInfo(cause);
  if (!info.sqlstate || !PER_RECORD_STATES.has(info.sqlstate)) return null;
  const copied = copyRecord === null ? -1 : copyRecord - firstIndex;
  const i = (await findRefusedRow(db, t, rows, info.sqlstate)) ?? (copied >= 0 && copied < rows.length ? copied : null);
  if (i === null) return null;
  const columns = await columnsOf(db, t, info);
  const row = rows[i] as Row;
  const field = columns.length ? fieldName(t, columns, await keyModeOf(t)) : undefined;
  const value = columns.length === 1 ? (row[columns[0] as string] ?? null) : columns.map((c) => row[c] ?? null);
  const shown = columns.length ? `, value ${JSON.stringify(value)}` : "";
  return new EtlError(
    "CONSTRAINT_VIOLATION",
    `${t.file.file}: record #${firstIndex + i}${field ? `, field "${field}"` : ""}: ${info.message}${shown}${info.detail ? ` (${info.detail})` : ""}`,
    {
      step,
      table: t.name,
      file: t.file.file,
      record: firstIndex + i,
      field,
      cause,
      meta: { sqlstate: info.sqlstate, constraint: info.constraint, detail: info.detail, value },
      next: "fix that record in the release (or the constraint, if it is wrong), then run again",
    },
  );
}

/**
 * A per-record refusal raised after the batches (a staged table moved into a partitioned
 * target in the final phase): the release's file of that table is replayed through the probe,
 * batch by batch, until the record is found.
 */
export async function diagnoseLateConstraint(
  raw: unknown,
  step: Step,
  db: PrismaClientLike,
  tables: ReadonlyMap<string, TablePlan>,
): Promise<EtlError | null> {
  const info = pgErrorInfo(raw);
  if (!info.sqlstate || !PER_RECORD_STATES.has(info.sqlstate)) return null;
  const named = info.table ?? /relation "([^"]+)"/.exec(info.message)?.[1];
  let t = named ? tables.get(named) : undefined;
  // an exclusion violation names its constraint only (and Prisma's adapter drops the table): the table that has it
  const constraint = named ? undefined : (info.constraint ?? /constraint "([^"]+)"/.exec(info.message)?.[1]);
  for (const c of constraint ? tables.values() : []) {
    const [r] = await query<{ columns: string[] | null }>(db, constraintColumns(c.info, constraint as string));
    if (r?.columns?.length) {
      t = c;
      break;
    }
  }
  if (!t) return null;
  const v = validatorFor(t);
  for await (const b of readRecords(t.file.path, { batchSize: 10_000, label: t.file.file })) {
    const found = await constraintError(db, t, v.validate(b.records, b.firstIndex), b.firstIndex, raw, step);
    if (found) return found;
  }
  return null;
}
