import type pg from "pg";
import Cursor from "pg-cursor";
import type { Statement } from "../sql/statement.js";
import {
  type ClosureTable,
  childIds,
  closureQuery,
  parallelWorkers,
  parentIds,
  rootIds,
  setParallelWorkers,
} from "../sql/sample-statements.js";
import { childrenFirst } from "./plan-mode.js";
import type { SamplePlan, TablePlan } from "./plan-types.js";
import { RowSet } from "./row-set.js";

/** Streams a statement's rows through a server-side cursor, `chunk` rows at a time. */
export async function* cursorRows<T>(client: pg.Client, s: Statement, chunk: number): AsyncGenerator<T[]> {
  const cursor = client.query(new Cursor<T>(s.text, s.values));
  try {
    for (let rows = await cursor.read(chunk); rows.length > 0; rows = await cursor.read(chunk)) yield rows;
  } finally {
    await cursor.close();
  }
}

export interface ClosureStats {
  rounds: number;
  queries: number;
  durationMs: number;
}

/** A query of the closure: its statement, and the set its row ids go into, for what reason. */
export interface Step {
  s: Statement;
  into: RowSet;
  reason: string;
}

/** Reads a step's ids, a chunk at a time (a server-side cursor in a run; anything in a test). */
export type StepReader<C> = (client: C, s: Statement) => AsyncIterable<readonly string[]>;

/**
 * Runs the steps on the clients (every one in the run's snapshot), each client taking the
 * next step as it is free. A step's ids go into its set as they stream in, unless an earlier
 * step into the same set is still running: then they wait for it, so the sets and the reason
 * each id was pulled by are those of running the steps one after the other, whichever
 * connection answers first, and only ids that must wait are held. After a failure no step
 * starts and the running ones stop at their next chunk (their cursors closed); the first
 * failure is thrown once they have.
 */
export async function runSteps<C>(clients: readonly C[], steps: readonly Step[], read: StepReader<C>, stats: ClosureStats): Promise<void> {
  const done = steps.map(() => false);
  const held: (readonly string[])[][] = steps.map(() => []);
  // a step may add when every earlier step into the same set is done (its held ids added first)
  const mayAdd = (i: number) => steps.every((x, j) => j >= i || x.into !== (steps[i] as Step).into || done[j]);
  const release = () => {
    for (let i = 0; i < steps.length; i++) {
      if (!held[i]?.length || !mayAdd(i)) continue;
      for (const ids of held[i] as (readonly string[])[]) (steps[i] as Step).into.addAll(ids, (steps[i] as Step).reason);
      held[i] = [];
    }
  };
  let next = 0;
  let failure: { error: unknown } | null = null;
  await Promise.allSettled(
    clients.map(async (client) => {
      for (let i = next++; i < steps.length && failure === null; i = next++) {
        const step = steps[i] as Step;
        try {
          stats.queries++;
          for await (const ids of read(client, step.s)) {
            if (failure !== null) break;
            if (mayAdd(i)) step.into.addAll(ids, step.reason);
            else (held[i] as (readonly string[])[]).push(ids);
          }
        } catch (e) {
          failure ??= { error: e };
        }
        done[i] = true;
        release();
      }
    }),
  );
  if (failure !== null) throw (failure as { error: unknown }).error;
}

/** A step's ids through a server-side cursor, `chunk` rows at a time. */
const cursorIds = (chunk: number): StepReader<pg.Client> =>
  async function* (client, s) {
    for await (const rows of cursorRows<{ id: string }>(client, s, chunk)) yield rows.map((r) => r.id);
  };

/**
 * The FK closure of a sample, in the run's snapshot, as row-id sets: the roots' rows, every
 * parent row an FK of a taken row references (composite, nullable, several FKs to one parent,
 * FKs to unique columns: all are one join on the FK's columns), and the children of included
 * edges, at most `cap` per parent. Tables taken whole keep no set. The plan picks how: one
 * statement on the server when only parents are followed and no FK cycle joins the partial
 * tables ({@link closeInOneQuery}), else rounds of keyset queries ({@link closeInRounds}).
 */
export async function closeSample(
  clients: readonly pg.Client[],
  plan: SamplePlan,
  opts: { batchSize: number },
): Promise<{ sets: Map<string, RowSet>; stats: ClosureStats }> {
  const t0 = performance.now();
  const stats: ClosureStats = { rounds: 0, queries: 0, durationMs: 0 };
  const sets = new Map(plan.tables.filter((t) => !t.full).map((t) => [t.table.name, new RowSet()]));
  if (plan.mode === "one-query") await closeInOneQuery(clients[0] as pg.Client, plan, sets, { chunk: opts.batchSize, stats });
  else await closeInRounds(clients, plan, sets, { ...opts, stats });
  stats.durationMs = Math.round(performance.now() - t0);
  return { sets, stats };
}

/**
 * The closure as one statement ({@link closureQuery}), when no child edge is included and no FK
 * cycle joins the partial tables (plan.ts decides): the server joins each table's rows to its
 * parents' by hashed semi-joins, in one pass over each table, and the ids come back once
 * through a cursor. The 1M-row example's 10% sample: 128 keyset queries in 21 rounds took
 * 0.70 s; this one statement 0.40 s.
 */
async function closeInOneQuery(
  client: pg.Client,
  plan: SamplePlan,
  sets: Map<string, RowSet>,
  opts: { chunk: number; stats: ClosureStats },
): Promise<void> {
  const order = childrenFirst(plan.tables);
  if (!order) throw new Error("closeInOneQuery: the partial tables have an FK cycle (the plan should have chosen keyset)");
  const wholeOf = new Map(plan.tables.filter((t) => t.full).map((t) => [t.table.name, t]));
  const partialNames = new Set(order.map((t) => t.table.name));
  const byName = new Map<string, ClosureTable>();
  const reasons: string[][] = [];
  const tables: ClosureTable[] = order.map((t) => {
    const carries = [...new Set(t.table.foreignKeys.filter((fk) => partialNames.has(fk.references.name)).flatMap((fk) => fk.columns))];
    const ct: ClosureTable = { table: t.table, root: t.root, from: [], carries };
    byName.set(t.table.name, ct);
    return ct;
  });
  // every FK into a partial table, from a partial child (defined earlier: children first) or a whole one
  for (const t of plan.tables) {
    for (const fk of t.table.foreignKeys) {
      const parent = byName.get(fk.references.name);
      if (!parent) continue;
      const child = byName.get(t.table.name) ?? (wholeOf.has(t.table.name) ? { table: t.table, whole: true as const } : null);
      if (child) parent.from.push({ fk, child });
    }
  }
  tables.forEach((t) => reasons.push(["root", ...t.from.map(({ fk }) => `parent via ${fk.name}`)]));
  const targets = tables.map((t) => sets.get(t.table.name) as RowSet);
  opts.stats.rounds = 1;
  opts.stats.queries = 1;
  const run = async (s: Statement) => (await client.query<{ value: string }>(s.text, s.values)).rows[0]?.value;
  const workers = (await run(parallelWorkers())) as string;
  await run(setParallelWorkers("0"));
  type Row = { t: number; id: string; why: number; leaf: string | number };
  for await (const rows of cursorRows<Row>(client, closureQuery(tables), opts.chunk)) {
    // rows come in runs of one table, reason and partition: one addAll per run, in arrival order (the first reason wins)
    for (let from = 0; from < rows.length;) {
      const { t, why, leaf } = rows[from] as Row;
      let to = from + 1;
      while (to < rows.length && rows[to]?.t === t && rows[to]?.why === why && rows[to]?.leaf === leaf) to++;
      const ids = rows.slice(from, to).map((r) => r.id);
      const set = targets[t] as RowSet;
      // a partition's oid: its rows are numbered apart from other partitions' (the same ctid is another row there)
      const oid = Number(leaf);
      set.addAll(ids, (reasons[t] as string[])[why] as string, { follow: false, leaf: oid === 0 ? 0 : set.leafOf(oid) });
      from = to;
    }
  }
  await run(setParallelWorkers(workers));
}

/**
 * The closure in rounds of keyset queries (FK cycles, self-references, included children): the
 * roots, then a fixpoint that follows each batch of new ids to its parents and included
 * children until no id is new. Every id enters a set once, so cycles end. Each round's queries
 * run on every connection sharing the snapshot at once ({@link runSteps}; the 1M-row example's
 * 10% sample: 0.78 s on one connection, 0.60 s on two). A round takes only ids added before it:
 * a child included from a parent added in the same round is followed in the next one.
 */
async function closeInRounds(
  clients: readonly pg.Client[],
  plan: SamplePlan,
  sets: Map<string, RowSet>,
  opts: { batchSize: number; stats: ClosureStats },
): Promise<void> {
  const { stats } = opts;
  const byName = new Map(plan.tables.map((t) => [t.table.name, t]));
  const first: Step[] = [];
  for (const t of plan.tables) {
    const set = sets.get(t.table.name);
    if (set && t.root) first.push({ s: rootIds({ table: t.table, ...t.root }), into: set, reason: "root" });
  }
  // a table taken whole references its parents with every row: one pass each
  for (const t of plan.tables.filter((x) => x.full)) {
    for (const fk of t.table.foreignKeys) {
      const parent = sets.get(fk.references.name);
      const p = byName.get(fk.references.name);
      if (parent && p) first.push({ s: parentIds(fk, t.table, p.table, null), into: parent, reason: `parent via ${fk.name}` });
    }
  }
  const read = cursorIds(opts.batchSize);
  await runSteps(clients, first, read, stats);
  for (let pending = true; pending;) {
    pending = false;
    stats.rounds++;
    const steps: Step[] = [];
    for (const t of plan.tables) {
      const set = sets.get(t.table.name);
      if (!set || set.pending === 0) continue;
      pending = true;
      steps.push(...followBatch(t, set.take(opts.batchSize), { byName, sets, batchSize: opts.batchSize }));
    }
    await runSteps(clients, steps, read, stats);
  }
}

/** The queries that follow one batch of a table's taken rows: its parents through every FK, its included children. */
function followBatch(
  t: TablePlan,
  ids: string[],
  ctx: { byName: Map<string, TablePlan>; sets: Map<string, RowSet>; batchSize: number },
): Step[] {
  const steps: Step[] = [];
  for (const fk of t.table.foreignKeys) {
    const into = ctx.sets.get(fk.references.name);
    const p = ctx.byName.get(fk.references.name);
    if (!into || !p) continue; // a parent taken whole holds every row already
    steps.push({ s: parentIds(fk, t.table, p.table, ids), into, reason: `parent via ${fk.name}` });
  }
  for (const edge of t.children) {
    const into = ctx.sets.get(edge.fk.table.name);
    const c = ctx.byName.get(edge.fk.table.name);
    if (!into || !c) continue;
    // at most batchSize child ids per statement
    const step = Math.max(1, Math.floor(ctx.batchSize / edge.cap));
    for (let i = 0; i < ids.length; i += step) {
      steps.push({ s: childIds(edge.fk, c.table, t.table, ids.slice(i, i + step), edge.cap), into, reason: `child via ${edge.fk.name}` });
    }
  }
  return steps;
}
