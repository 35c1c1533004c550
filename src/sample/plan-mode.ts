/**
 * How a sample's selection is closed: whole tables only (`direct`), one statement on the
 * server (`one-query`: partial tables followed to their parents, no FK cycle among them), or
 * keyset rounds in this process (`keyset`: included children, cycles, self-references).
 */
import { EtlError } from "../errors.js";
import type { SamplePlan, TablePlan } from "./plan-types.js";
import { MAX_LEAVES } from "./row-set.js";

/** Tables a root's rows can reach by following FKs to parents (the roots included). */
function reachedByParents(tables: readonly TablePlan[]): Set<string> {
  const byName = new Map(tables.map((t) => [t.table.name, t]));
  const reached = new Set<string>();
  const queue = tables.filter((t) => t.root);
  for (let t = queue.pop(); t; t = queue.pop()) {
    if (reached.has(t.table.name)) continue;
    reached.add(t.table.name);
    for (const fk of t.table.foreignKeys) {
      const parent = byName.get(fk.references.name);
      if (parent) queue.push(parent);
    }
  }
  return reached;
}

/**
 * The partial tables a sample following parents only can put rows in, children first (a
 * parent after every such table with an FK to it), or null when FKs among them form a cycle (a
 * self-reference included). A table no root reaches stays empty and is left out: its cycles
 * close nothing.
 */
export function childrenFirst(tables: readonly TablePlan[]): TablePlan[] | null {
  const reached = reachedByParents(tables);
  const partial = new Map(tables.filter((t) => !t.full && reached.has(t.table.name)).map((t) => [t.table.name, t]));
  const state = new Map<string, "open" | "done">();
  const out: TablePlan[] = [];
  // depth first over "parent of": a table is listed after its parents, so reversed it comes before them
  const visit = (t: TablePlan): boolean => {
    if (state.get(t.table.name) === "done") return true;
    if (state.get(t.table.name) === "open") return false;
    state.set(t.table.name, "open");
    for (const fk of t.table.foreignKeys) {
      const parent = partial.get(fk.references.name);
      if (parent && !visit(parent)) return false;
    }
    state.set(t.table.name, "done");
    out.push(t);
    return true;
  };
  for (const t of partial.values()) if (!visit(t)) return null;
  return out.reverse();
}

/** Why the closure cannot be one statement (plan `one-query`), or null when it can. */
function needsRounds(tables: readonly TablePlan[]): string | null {
  const including = tables.filter((t) => t.children.length > 0).map((t) => t.table.name);
  if (including.length) {
    return `${including.join(", ")} ${including.length === 1 ? "includes" : "include"} children, whose parents are followed again: a fixpoint`;
  }
  if (!childrenFirst(tables)) return "an FK cycle (or self-reference) joins partial tables: it closes only when a round brings nothing new";
  return null;
}

/**
 * Which plan runs and why, for the log line and the manifest: `direct` when every table is
 * whole, `one-query` when the partial ones close in one statement, `keyset` otherwise. A part
 * of a partitioned table the chosen plan cannot address is refused here, before anything is read.
 */
export function choosePlan(
  tables: readonly TablePlan[],
  broughtBy: ReadonlyMap<string, string>,
): { mode: SamplePlan["mode"]; why: string[] } {
  const partial = tables.filter((t) => !t.full && (t.root || !broughtBy.get(t.table.name)?.startsWith("no rows")));
  const rounds = needsRounds(tables);
  const mode = tables.every((t) => t.full) ? "direct" : rounds ? "keyset" : "one-query";
  refusePartialPartitions(tables, broughtBy, mode, rounds);
  const partialList = `${partial.map((t) => t.table.name).join(", ")} ${partial.length === 1 ? "is" : "are"} partial`;
  return {
    mode,
    why: [
      mode === "direct"
        ? "direct: every output table is taken whole, so each is one COPY and no row ids are kept"
        : mode === "one-query"
          ? `one-query: ${partialList}; parents only are followed and no FK cycle joins them, so the server closes the selection in one statement (hash semi-joins, children first) and the row ids (ctid, 8 bytes each) come back once`
          : `keyset: ${partialList} and ${rounds}, so their row ids (ctid, 8 bytes each) are closed over FKs in this process, in rounds of keyset batches`,
      "no staging schema or TEMP table in the source: the source is only read (works for SELECT-only roles and hot standbys)",
      ...[...broughtBy].map(([t, by]) => `${t}: ${by}`),
    ],
  };
}

/**
 * A partitioned table's row ids are per partition. The one-query plan carries each row's
 * partition; the keyset rounds address rows by ctid alone, so there such a table must be
 * taken whole.
 */
function refusePartialPartitions(
  tables: readonly TablePlan[],
  broughtBy: ReadonlyMap<string, string>,
  mode: SamplePlan["mode"],
  rounds: string | null,
): void {
  for (const t of tables) {
    if (!t.table.partitioned || t.full || broughtBy.get(t.table.name)?.startsWith("no rows")) continue;
    const n = t.table.name;
    const why =
      mode !== "one-query"
        ? `this sample needs the keyset rounds (${rounds}), which address rows by ctid alone`
        : t.table.foreignLeaves
          ? "a partition of it is a foreign table, whose rows have no ctid of their own"
          : t.table.partitions.length > MAX_LEAVES
            ? `it has ${t.table.partitions.length} partitions, more than the ${MAX_LEAVES} a sample can tell apart`
            : null;
    if (!why) continue;
    throw new EtlError("SAMPLE_UNSUPPORTED", `${n} is partitioned, and ${why}: it can only be taken whole here`, {
      step: "config",
      table: n,
      next:
        `set limits: { ${n}: "all" } and no where/include on it, or leave ${n} out of the sample's tables (then the import does not touch it)` +
        (mode === "keyset" ? "; or leave out the include that needs the rounds" : ""),
    });
  }
}
