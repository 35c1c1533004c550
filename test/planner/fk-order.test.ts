import { describe, expect, it } from "vitest";
import { EtlError } from "../../src/errors.js";
import { planLoadOrder } from "../../src/planner/fk-order.js";
import type { ForeignKeyInfo, TableInfo } from "../../src/sql/catalog.js";

/** A catalog from `child: [parent, …]` edges; `deferrable` lists "child->parent" edges that are DEFERRABLE. */
function catalog(
  edges: Record<string, string[]>,
  opts: { deferrable?: string[]; schemaOf?: Record<string, string> } = {},
): Map<string, TableInfo> {
  const schemaOf = (t: string) => opts.schemaOf?.[t] ?? "public";
  const tables = new Map<string, TableInfo>();
  for (const name of Object.keys(edges)) {
    tables.set(name, {
      schema: schemaOf(name),
      name,
      columns: [],
      primaryKey: ["id"],
      uniqueKeys: [],
      foreignKeys: [],
      referencedBy: [],
      partitioned: false,
      partitions: [],
      partitionKey: [],
    });
  }
  for (const [child, parents] of Object.entries(edges)) {
    for (const parent of parents) {
      const fk: ForeignKeyInfo = {
        name: `${child}_${parent}_fkey`,
        table: { schema: schemaOf(child), name: child },
        columns: [`${parent}_id`],
        references: { schema: schemaOf(parent), name: parent },
        referencedColumns: ["id"],
        onDelete: "a",
        deferrable: opts.deferrable?.includes(`${child}->${parent}`) ?? false,
      };
      tables.get(child)?.foreignKeys.push(fk);
      tables.get(parent)?.referencedBy.push(fk);
    }
  }
  return tables;
}

function thrown(fn: () => unknown): EtlError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EtlError);
    return e as EtlError;
  }
  throw new Error("expected a throw");
}

describe("planLoadOrder", () => {
  it("should load parents first and clear children first, whatever the config order", () => {
    const c = catalog({
      stats: ["players", "matches"],
      players: ["teams"],
      matches: ["teams", "leagues"],
      teams: ["leagues"],
      leagues: [],
    });
    const plan = planLoadOrder(c, ["stats", "players", "matches", "teams", "leagues"]);
    expect(plan.loadOrder).toEqual(["leagues", "teams", "players", "matches", "stats"]);
    expect(plan.clearOrder).toEqual(["stats", "matches", "players", "teams", "leagues"]);
    expect(plan.deferConstraints).toBe(false);
    expect(plan.selfReferencing.size).toBe(0);
  });

  it("should keep the config order among tables that do not depend on each other", () => {
    const c = catalog({ b: [], a: [], c: ["a"] });
    expect(planLoadOrder(c, ["b", "c", "a"]).loadOrder).toEqual(["b", "a", "c"]);
    expect(planLoadOrder(c, ["a", "b", "c"]).loadOrder).toEqual(["a", "b", "c"]);
  });

  it("should ignore FKs to tables outside the release", () => {
    const c = catalog({ teams: ["leagues"], leagues: [] });
    expect(planLoadOrder(c, ["teams"]).loadOrder).toEqual(["teams"]);
  });

  it("should ignore an FK to a same-named table in another schema", () => {
    const c = catalog({ a: ["b"], b: [] }, { schemaOf: { b: "other" } });
    expect(planLoadOrder(c, ["a", "b"]).loadOrder).toEqual(["a", "b"]);
  });

  it("should handle a self-reference without calling it a cycle", () => {
    const c = catalog({ employees: ["employees", "departments"], departments: [] });
    const plan = planLoadOrder(c, ["employees", "departments"]);
    expect(plan.loadOrder).toEqual(["departments", "employees"]);
    expect([...plan.selfReferencing]).toEqual(["employees"]);
    expect(plan.deferConstraints).toBe(false);
  });

  it("should refuse a cycle of non-deferrable FKs with FK_CYCLE spelling it out", () => {
    const e = thrown(() => planLoadOrder(catalog({ a: ["b"], b: ["a"] }), ["a", "b"]));
    expect(e.code).toBe("FK_CYCLE");
    expect(e.message).toContain("a -> b -> a");
    expect(e.meta.cycle).toEqual(["a", "b", "a"]);
    expect(e.exitCode).toBe(6);
    expect(e.next).toContain("DEFERRABLE");
  });

  it("should spell out a longer cycle, found behind tables that are not on it", () => {
    const c = catalog({ root: [], x: ["root", "z"], y: ["x"], z: ["y"], leaf: ["z"] });
    const e = thrown(() => planLoadOrder(c, ["leaf", "root", "x", "y", "z"]));
    expect(e.code).toBe("FK_CYCLE");
    const cycle = e.meta.cycle as string[];
    expect(cycle[0]).toBe(cycle[cycle.length - 1]);
    expect(new Set(cycle)).toEqual(new Set(["x", "y", "z"]));
    expect(e.message).toContain(cycle.join(" -> "));
  });

  it("should refuse a cycle when only some of its FKs are deferrable", () => {
    const e = thrown(() => planLoadOrder(catalog({ a: ["b"], b: ["a"] }, { deferrable: ["a->b"] }), ["a", "b"]));
    expect(e.code).toBe("FK_CYCLE");
  });

  it("should allow a cycle whose FKs are all deferrable, deferring constraints to COMMIT", () => {
    const c = catalog({ a: ["b"], b: ["a"] }, { deferrable: ["a->b", "b->a"] });
    const plan = planLoadOrder(c, ["a", "b"]);
    expect(plan.deferConstraints).toBe(true);
    expect(plan.loadOrder).toEqual(["a", "b"]);
    expect(plan.clearOrder).toEqual(["b", "a"]);
  });

  it("should still load a table that hangs off a deferrable cycle by an immediate FK after its parent", () => {
    const c = catalog({ c: ["a"], a: ["b"], b: ["a"] }, { deferrable: ["a->b", "b->a"] });
    const plan = planLoadOrder(c, ["c", "a", "b"]);
    expect(plan.deferConstraints).toBe(true);
    expect([...plan.loadOrder].sort()).toEqual(["a", "b", "c"]);
    expect(plan.loadOrder.indexOf("c")).toBeGreaterThan(plan.loadOrder.indexOf("a"));
  });

  it("should refuse a non-deferrable cycle even next to a deferrable one", () => {
    const c = catalog({ a: ["b"], b: ["a"], d: ["e"], e: ["d"] }, { deferrable: ["a->b", "b->a"] });
    const e = thrown(() => planLoadOrder(c, ["a", "b", "d", "e"]));
    expect(e.code).toBe("FK_CYCLE");
    expect(e.message).toContain("d -> e -> d");
  });
});
