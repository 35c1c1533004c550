import type pg from "pg";
import Cursor from "pg-cursor";
import type { Statement } from "../sql/statement.js";
import { childIds, parentIds, rootIds } from "../sql/sample-statements.js";
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

/**
 * The FK closure of a sample, in the run's snapshot, as row-id sets: the roots' rows, then a
 * fixpoint that adds, batch by batch, every parent row an FK of a taken row references
 * (composite, nullable, self-referencing, several FKs to one parent, FKs to unique columns:
 * all are one join on the FK's columns), and the children of included edges, at most `cap`
 * per parent. Every id enters a set once, so cycles end. Tables taken whole keep no set.
 */
export async function closeSample(
  client: pg.Client,
  plan: SamplePlan,
  opts: { batchSize: number; onRound?: (sizes: Record<string, number>) => void },
): Promise<{ sets: Map<string, RowSet>; stats: ClosureStats }> {
  const t0 = performance.now();
  const stats: ClosureStats = { rounds: 0, queries: 0, durationMs: 0 };
  const byName = new Map(plan.tables.map((t) => [t.table.name, t]));
  const sets = new Map(plan.tables.filter((t) => !t.full).map((t) => [t.table.name, new RowSet()]));
  const collect = async (s: Statement, into: RowSet, reason: string) => {
    stats.queries++;
    for await (const rows of cursorRows<{ id: string }>(client, s, opts.batchSize)) {
      into.addAll(
        rows.map((r) => r.id),
        reason,
      );
    }
  };
  for (const t of plan.tables) {
    const set = sets.get(t.table.name);
    if (set && t.root) await collect(rootIds({ table: t.table, ...t.root }), set, "root");
  }
  // a table taken whole references its parents with every row: one pass each
  for (const t of plan.tables.filter((x) => x.full)) {
    for (const fk of t.table.foreignKeys) {
      const parent = sets.get(fk.references.name);
      const p = byName.get(fk.references.name);
      if (parent && p) await collect(parentIds(fk, t.table, p.table, null), parent, `parent via ${fk.name}`);
    }
  }
  for (let pending = true; pending;) {
    pending = false;
    stats.rounds++;
    for (const t of plan.tables) {
      const set = sets.get(t.table.name);
      if (!set || set.pending === 0) continue;
      pending = true;
      await followBatch(client, t, set.take(opts.batchSize), { byName, sets, stats, batchSize: opts.batchSize });
    }
    opts.onRound?.(Object.fromEntries([...sets].map(([n, s]) => [n, s.size])));
  }
  stats.durationMs = Math.round(performance.now() - t0);
  return { sets, stats };
}

async function followBatch(
  client: pg.Client,
  t: TablePlan,
  ids: string[],
  ctx: { byName: Map<string, TablePlan>; sets: Map<string, RowSet>; stats: ClosureStats; batchSize: number },
): Promise<void> {
  for (const fk of t.table.foreignKeys) {
    const into = ctx.sets.get(fk.references.name);
    const p = ctx.byName.get(fk.references.name);
    if (!into || !p) continue; // a parent taken whole holds every row already
    ctx.stats.queries++;
    const s = parentIds(fk, t.table, p.table, ids);
    const r = await client.query<{ id: string }>(s.text, s.values);
    into.addAll(
      r.rows.map((x) => x.id),
      `parent via ${fk.name}`,
    );
  }
  for (const edge of t.children) {
    const into = ctx.sets.get(edge.fk.table.name);
    const c = ctx.byName.get(edge.fk.table.name);
    if (!into || !c) continue;
    // at most batchSize child ids per statement
    const step = Math.max(1, Math.floor(ctx.batchSize / edge.cap));
    for (let i = 0; i < ids.length; i += step) {
      const s = childIds(edge.fk, c.table, t.table, ids.slice(i, i + step), edge.cap);
      ctx.stats.queries++;
      const r = await client.query<{ id: string }>(s.text, s.values);
      into.addAll(
        r.rows.map((x) => x.id),
        `child via ${edge.fk.name}`,
      );
    }
  }
}
