import { EtlError } from "../errors.js";
import type { TableInfo } from "../sql/catalog.js";

export interface LoadPlan {
  /** Parents before children. */
  loadOrder: string[];
  /** Children before parents. */
  clearOrder: string[];
  /** Tables with an FK to themselves: loaded through one set-based statement so the FK sees every row. */
  selfReferencing: Set<string>;
  /** True when a multi-table cycle exists whose FKs are all DEFERRABLE: constraints are deferred to COMMIT. */
  deferConstraints: boolean;
}

/**
 * Orders the target tables by their FKs. Self-references are handled; a cycle across
 * tables is handled only when every FK on it is DEFERRABLE, otherwise refused with the
 * cycle spelled out ("a -> b -> a").
 */
export function planLoadOrder(tables: ReadonlyMap<string, TableInfo>, configured: readonly string[]): LoadPlan {
  const names = [...configured];
  const targets = new Set(names);
  const selfReferencing = new Set<string>();
  // parents[t] = target tables t references
  const parents = new Map<string, Set<string>>(names.map((n) => [n, new Set()]));
  const deferrable = new Map<string, boolean>();
  for (const t of names) {
    for (const fk of tables.get(t)?.foreignKeys ?? []) {
      const p = fk.references.name;
      if (!targets.has(p) || fk.references.schema !== tables.get(t)?.schema) continue;
      if (p === t) {
        selfReferencing.add(t);
        continue;
      }
      parents.get(t)?.add(p);
      const key = `${t}->${p}`;
      deferrable.set(key, (deferrable.get(key) ?? true) && fk.deferrable);
    }
  }
  const isDeferrable = (t: string, p: string) => deferrable.get(`${t}->${p}`) === true;
  // Kahn's algorithm, stable in config order; `counts` says which FKs must be satisfied first.
  const loadOrder: string[] = [];
  const done = new Set<string>();
  const order = (counts: (t: string, p: string) => boolean) => {
    while (loadOrder.length < names.length) {
      const next = names.find((n) => !done.has(n) && [...(parents.get(n) ?? [])].every((p) => done.has(p) || !counts(n, p)));
      if (next === undefined) break;
      done.add(next);
      loadOrder.push(next);
    }
  };
  const refuse = (cycle: string[]) =>
    new EtlError("FK_CYCLE", `foreign keys form a cycle: ${cycle.join(" -> ")}`, {
      step: "preflight",
      next: "make the FKs on the cycle DEFERRABLE INITIALLY IMMEDIATE, or load these tables in separate releases",
      meta: { cycle },
    });
  order(() => true);
  let deferConstraints = false;
  if (loadOrder.length < names.length) {
    const cycle = findCycle(
      names.filter((n) => !done.has(n)),
      parents,
    );
    if (!cycle.slice(0, -1).every((t, i) => isDeferrable(t, cycle[i + 1] as string))) throw refuse(cycle);
    deferConstraints = true;
    // Deferred FKs are checked at COMMIT; the others still need their parents loaded first
    // (a table hanging off the cycle by an immediate FK comes after its parent).
    order((t, p) => !isDeferrable(t, p));
    if (loadOrder.length < names.length) {
      const rest = names.filter((n) => !done.has(n));
      const immediate = new Map(rest.map((n) => [n, new Set([...(parents.get(n) ?? [])].filter((p) => !isDeferrable(n, p)))]));
      throw refuse(findCycle(rest, immediate));
    }
  }
  return { loadOrder, clearOrder: [...loadOrder].reverse(), selfReferencing, deferConstraints };
}

function findCycle(nodes: string[], parents: Map<string, Set<string>>): string[] {
  const inSet = new Set(nodes);
  const start = nodes[0] as string;
  const path: string[] = [];
  const seen = new Map<string, number>();
  let cur: string | undefined = start;
  while (cur !== undefined && !seen.has(cur)) {
    seen.set(cur, path.length);
    path.push(cur);
    cur = [...(parents.get(cur) ?? [])].find((p) => inSet.has(p));
  }
  if (cur === undefined) return [start, start];
  return [...path.slice(seen.get(cur)), cur];
}
