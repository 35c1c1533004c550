/**
 * The one-query plan (the parent closure as one statement on the server) against the keyset
 * rounds it replaces where it can: the same sets over every acyclic FK shape, and a release
 * that imports with every FK on.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { sampleConfigSchema } from "../../src/config/samples-schema.js";
import { closeSample } from "../../src/sample/closure.js";
import { planSample } from "../../src/sample/plan.js";
import { openSource, readSourceCatalog } from "../../src/sample/source-session.js";
import { quoteIdent } from "../../src/sql/quote.js";
import { useTestProject } from "../fixtures/core/kit.js";
import { freshDatabase, runSql } from "../support/postgres.js";
import { importRelease, orphanCount, rowsOf, runSample, sampleConfig } from "./support.js";

/** Every acyclic shape: a unique non-PK key, several FKs to one parent, a composite FK with a nullable part, a keyless whole table, a quoted name, a table no root reaches. */
const DDL = [
  `CREATE TABLE p1 (id int PRIMARY KEY, code text NOT NULL UNIQUE)`,
  `CREATE TABLE p2 (a int, b text, PRIMARY KEY (a, b))`,
  `CREATE TABLE c (id int PRIMARY KEY, p1_id int NOT NULL REFERENCES p1(id), p1_code text REFERENCES p1(code), alt_p1 int REFERENCES p1(id),
     a int, b text, FOREIGN KEY (a, b) REFERENCES p2(a, b))`,
  `CREATE TABLE gc (id int PRIMARY KEY, c_id int NOT NULL REFERENCES c(id), a int NOT NULL, b text NOT NULL, FOREIGN KEY (a, b) REFERENCES p2(a, b))`,
  `CREATE TABLE w (c_id int REFERENCES c(id), note text)`,
  `CREATE TABLE lonely (id int PRIMARY KEY, p1_id int REFERENCES p1(id))`,
  `CREATE TABLE "Odd ""name""" (id int PRIMARY KEY, "p1 id" int REFERENCES p1(id))`,
  // a self-reference no root reaches: it stays empty, and does not make the closure a fixpoint
  `CREATE TABLE loop (id int PRIMARY KEY, up int REFERENCES loop(id))`,
];
const DATA = [
  `INSERT INTO p1 SELECT i, 'C' || i FROM generate_series(1, 100) i`,
  `INSERT INTO p2 SELECT a, b FROM generate_series(1, 5) a, unnest(ARRAY['x', 'y']) b`,
  `INSERT INTO c SELECT i, 1 + i % 50, CASE WHEN i % 9 = 0 THEN NULL ELSE 'C' || (1 + (i * 7) % 100) END,
          CASE WHEN i % 4 = 0 THEN NULL ELSE 1 + (i * 3) % 100 END, 1 + i % 3, CASE WHEN i % 6 = 0 THEN NULL WHEN i % 2 = 0 THEN 'x' ELSE 'y' END
     FROM generate_series(1, 200) i`,
  `INSERT INTO gc SELECT i, 1 + (i * 11) % 200, 1 + i % 2, CASE WHEN i % 3 = 0 THEN 'x' ELSE 'y' END FROM generate_series(1, 500) i`,
  `INSERT INTO w SELECT CASE WHEN i % 10 = 0 THEN NULL ELSE 1 + (i * 13) % 200 END, 'n' || i FROM generate_series(1, 30) i`,
  `INSERT INTO lonely SELECT i, i FROM generate_series(1, 5) i`,
  `INSERT INTO "Odd ""name""" SELECT i, 1 + (i * 5) % 50 FROM generate_series(1, 30) i`,
  `INSERT INTO loop VALUES (1, NULL), (2, 1)`,
];
const TABLES = ["p1", "p2", "c", "gc", "w", "lonely", 'Odd "name"', "loop"];
const SAMPLE = {
  tables: TABLES,
  limits: { gc: "20%", c: 3, p2: 1, 'Odd "name"': 2, w: "all" },
  where: { c: "t.id % 50 = 0" },
} as const;

const { db: source, ws } = useTestProject({ migrate: false, scope: "suite" });
beforeAll(() => runSql(source.url, ...DDL, ...DATA));

/** The sets of both closures, in one snapshot: each table's ctids, sorted. */
async function bothClosures(batchSize: number) {
  const session = await openSource(source.url, { share: false });
  try {
    const catalog = await readSourceCatalog(session.tx, "public");
    const plan = planSample({ name: "s", sample: sampleConfigSchema.parse(SAMPLE), cliLimits: [], catalog, dm: undefined });
    const ids = async (mode: "one-query" | "keyset") => {
      const { sets, stats } = await closeSample([session.client], { ...plan, mode }, { batchSize });
      const out: Record<string, string[]> = {};
      for (const [name, set] of sets) out[name] = [...set.batches(1 << 20)].flatMap((b) => b.ids.map((id) => `${b.leaf}:${id}`)).sort();
      return { out, stats, sets };
    };
    return { plan, one: await ids("one-query"), rounds: await ids("keyset") };
  } finally {
    await session.close();
  }
}

describe("the one-query closure", () => {
  it("should close the same sets as the keyset rounds over every acyclic FK shape, in one query, at any cursor chunk", async () => {
    for (const batchSize of [3, 5000]) {
      const { plan, one, rounds } = await bothClosures(batchSize);
      expect(plan.mode).toBe("one-query");
      expect(one.stats).toMatchObject({ rounds: 1, queries: 1 });
      expect(rounds.stats.queries).toBeGreaterThan(1);
      expect(one.out).toEqual(rounds.out);
      // the shapes were exercised: a strict part of each parent, reached through its FKs and the whole table
      const sizes = Object.fromEntries([...one.sets].map(([n, s]) => [n, s.size]));
      expect(sizes).toMatchObject({ lonely: 0, loop: 0, gc: 98, 'Odd "name"': 2 });
      for (const [t, all] of [
        ["c", 200],
        ["p1", 100],
        ["p2", 10],
      ] as const) {
        expect(sizes[t]).toBeGreaterThan(3);
        expect(sizes[t]).toBeLessThan(all);
      }
      expect(one.sets.get("c")?.pulledBy.get("parent via w_c_id_fkey")).toBeGreaterThan(0);
      expect(one.sets.get("p1")?.pulledBy.get('parent via Odd "name"_p1 id_fkey')).toBe(2);
    }
  });

  it("should write a release that imports into a fresh database with every FK on, with only source rows", async () => {
    const config = sampleConfig(ws, { samples: { oq: SAMPLE } });
    const report = await runSample(config, source.url, { name: "oq" });
    expect(report.manifest.plan.mode).toBe("one-query");
    expect(report.manifest.selection.closure).toEqual({ rounds: 1, queries: 1 });
    const target = await freshDatabase({ migrate: false });
    try {
      await runSql(target.url, ...DDL);
      await importRelease(config, target.url, "oq");
      expect(await orphanCount(target.url)).toBe(0);
      for (const t of TABLES) {
        const src = new Set(await rowsOf(source.url, t.replaceAll('"', '""')));
        for (const r of await rowsOf(target.url, t.replaceAll('"', '""'))) expect(src.has(r), `${t}: ${r}`).toBe(true);
      }
      expect(await rowsOf(target.url, "w")).toHaveLength(30);
      expect(await rowsOf(target.url, "gc")).toHaveLength(report.manifest.tables.find((t) => t.table === "gc")?.rows ?? -1);
    } finally {
      await target.drop();
    }
  });

  it("should write exactly the snapshot's rows when writers insert parents and children and delete taken rows after it", async () => {
    const config = sampleConfig(ws, { samples: { quiet: SAMPLE, busy: SAMPLE } });
    const quiet = await runSample(config, source.url, { name: "quiet" });
    let n = 0;
    const writer = () =>
      runSql(
        source.url,
        "BEGIN",
        `INSERT INTO p1 VALUES (${1000 + n}, 'W${n}')`,
        `INSERT INTO c VALUES (${1000 + n}, ${1000 + n}, 'W${n}', NULL, 1, 'x')`,
        `INSERT INTO gc SELECT ${1000 + n} + i * 10000, ${1000 + n}, 1, 'x' FROM generate_series(1, 50) i`,
        `UPDATE c SET p1_id = ${1000 + n} WHERE id IN (SELECT id FROM c ORDER BY id LIMIT 5)`,
        `DELETE FROM gc WHERE id IN (SELECT id FROM gc WHERE id < 1000 ORDER BY id LIMIT 20 OFFSET ${20 * n++})`,
        "COMMIT",
      );
    const busy = await runSample(config, source.url, {
      name: "busy",
      hooks: { afterSnapshot: () => Promise.all([writer(), writer()]).then(() => undefined) },
    });
    expect(busy.manifest.plan.mode).toBe("one-query");
    const tables = (r: typeof quiet) => r.manifest.tables.map((t) => ({ table: t.table, rows: t.rows, sha256: t.sha256 }));
    expect(tables(busy)).toEqual(tables(quiet));
    // the writers did change what a new snapshot sees
    const after = await runSample(config, source.url, { name: "busy", force: true });
    expect(tables(after)).not.toEqual(tables(quiet));
  });

  it("should count a row under its own selection first, even where the planner would run the branches as a Parallel Append", async () => {
    // parallel plans made free: a Parallel Append orders its branches by cost, the FK branch first here
    await runSql(
      source.url,
      `CREATE TABLE pa_m (id int PRIMARY KEY, pad text NOT NULL)`,
      `CREATE TABLE pa_w (m_id int NOT NULL REFERENCES pa_m(id))`,
      `INSERT INTO pa_m SELECT i, repeat('x', 40) FROM generate_series(1, 20000) i`,
      `INSERT INTO pa_w SELECT i FROM generate_series(1, 20000) i`,
      "ANALYZE pa_m",
      "ANALYZE pa_w",
      `ALTER DATABASE ${quoteIdent(source.name)} SET parallel_setup_cost = 0`,
      `ALTER DATABASE ${quoteIdent(source.name)} SET parallel_tuple_cost = 0`,
      `ALTER DATABASE ${quoteIdent(source.name)} SET min_parallel_table_scan_size = 0`,
    );
    try {
      const config = sampleConfig(ws, {
        samples: { pa: { tables: ["pa_m", "pa_w"], limits: { pa_w: "all" }, where: { pa_m: "t.id % 2 = 0" } } },
      });
      const r = await runSample(config, source.url, { name: "pa" });
      expect(r.manifest.plan.mode).toBe("one-query");
      expect(r.manifest.tables.find((t) => t.table === "pa_m")?.pulledBy).toEqual({ root: 10000, "parent via pa_w_m_id_fkey": 10000 });
    } finally {
      await runSql(source.url, `ALTER DATABASE ${quoteIdent(source.name)} RESET ALL`);
    }
  });

  it("should read the source's own tables in a where, whatever their names (s0 was a CTE's name)", async () => {
    await runSql(source.url, `CREATE TABLE s0 (x int)`, `INSERT INTO s0 VALUES (3), (4)`);
    try {
      // p1's CTE comes after c's, which was named s0
      const config = sampleConfig(ws, {
        samples: { w0: { tables: ["p1", "c"], where: { p1: "t.id IN (SELECT x FROM s0)", c: "t.id = 1" } } },
      });
      const r = await runSample(config, source.url, { name: "w0" });
      expect(r.manifest.plan.mode).toBe("one-query");
      expect(r.manifest.tables.find((t) => t.table === "p1")?.pulledBy).toMatchObject({ root: 2 });
    } finally {
      await runSql(source.url, `DROP TABLE s0`);
    }
  });

  it("should keep the keyset rounds for a self-reference, naming why", async () => {
    await runSql(
      source.url,
      `CREATE TABLE tree (id int PRIMARY KEY, up int REFERENCES tree(id))`,
      `INSERT INTO tree VALUES (1, NULL), (2, 1), (3, 2)`,
    );
    try {
      const config = sampleConfig(ws, { samples: { t: { tables: ["tree"], where: { tree: "t.id = 3" } } } });
      const report = await runSample(config, source.url, { name: "t" });
      expect(report.manifest.plan.mode).toBe("keyset");
      expect(report.manifest.plan.why[0]).toMatch(/FK cycle \(or self-reference\)/);
      expect(report.manifest.tables[0]?.rows).toBe(3);
    } finally {
      await runSql(source.url, `DROP TABLE tree`);
    }
  });
});
