import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { useTestProject } from "../fixtures/core/kit.js";
import { freshDatabase, runSql } from "../support/postgres.js";
import { GRAPH_DATA, GRAPH_DDL, GRAPH_TABLES } from "./graph-schema.js";
import { fingerprintsOf, importRelease, orphanCount, readRows, rowsOf, runSample, sampleConfig, sql } from "./support.js";

const { db: source, ws } = useTestProject({ migrate: false, scope: "suite" });
beforeAll(() => runSql(source.url, ...GRAPH_DDL, ...GRAPH_DATA));

/** Imports the release into a fresh database with the same DDL (every FK on) and checks it against the source. */
async function importAndCheck(name: string): Promise<Record<string, string[]>> {
  const target = await freshDatabase({ migrate: false });
  try {
    await runSql(target.url, ...GRAPH_DDL);
    await importRelease(sampleConfig(ws), target.url, name);
    expect(await orphanCount(target.url)).toBe(0);
    const out: Record<string, string[]> = {};
    for (const t of GRAPH_TABLES) {
      out[t] = await rowsOf(target.url, t);
      const src = await rowsOf(source.url, t);
      // every row is a source row, as many times as there (keyless duplicates included)
      const pool = [...src];
      for (const r of out[t]) {
        const i = pool.indexOf(r);
        expect(i, `${t}: ${r} is not a source row`).toBeGreaterThanOrEqual(0);
        pool.splice(i, 1);
      }
    }
    return out;
  } finally {
    await target.drop();
  }
}

describe("sampling every FK shape", () => {
  it("should close parents over composite, unique-column, nullable, self and repeated FKs, equal to a recursive-SQL oracle", async () => {
    const config = sampleConfig(ws, { samples: { s1: { limits: { transfers: 5, audit: 10, ca: 1, squads: 1 } } } });
    const report = await runSample(config, source.url, { name: "s1" });
    // oracle: the employees the 5 first transfers and 10 first audit rows need, through both self-references
    const [oracle] = await sql<{ n: string }>(
      source.url,
      `WITH RECURSIVE need(id) AS (
         SELECT unnest(ARRAY[from_emp, to_emp, approver]) FROM (SELECT * FROM transfers ORDER BY id LIMIT 5) t
         UNION SELECT e.id FROM (SELECT * FROM transfers ORDER BY id LIMIT 5) t JOIN employees e ON e.email = t.approver_email
         UNION SELECT emp_id FROM (SELECT * FROM audit ORDER BY ctid LIMIT 10) a
         UNION SELECT unnest(ARRAY[e.manager_id, e.mentor_id]) FROM employees e JOIN need n ON n.id = e.id)
       SELECT count(DISTINCT id) AS n FROM need WHERE id IS NOT NULL`,
    );
    const rows = Object.fromEntries(report.manifest.tables.map((t) => [t.table, t.rows]));
    expect(rows.employees).toBe(Number(oracle?.n));
    // squads 1 → its lead project → that project's squad … the cycle brings in all 5
    expect(rows).toMatchObject({ transfers: 5, audit: 10, ca: 1, cb: 1, cc: 1, squads: 5, orgs: 3 });
    const out = await importAndCheck("s1");
    expect(out.transfers).toHaveLength(5);
    expect(
      report.manifest.closure
        .filter((c) => c.child === "employees")
        .map((c) => c.fk)
        .sort(),
    ).toEqual(["employees_manager_id_fkey", "employees_mentor_id_fkey", "employees_org_code_fkey", "employees_region_fkey"]);
  });

  it("should follow an included self-referencing edge with its cap per parent and terminate", async () => {
    const config = sampleConfig(ws, {
      samples: { s2: { roots: ["employees"], where: { employees: "id = 1" }, include: { employees: { employees_manager_id_fkey: 1 } } } },
    });
    const report = await runSample(config, source.url, { name: "s2" });
    const emps = await readRows(path.join(report.dir, "employees.ndjson"));
    // id 1 → its first report (2) → its first report (4) → … each new row also pulls its mentor chain
    const ids = new Set(emps.map((e) => e.id as number));
    for (const e of emps) expect(emps.filter((x) => x.manager_id === e.id && !isParentOfAnother(x, emps)).length).toBeLessThanOrEqual(1);
    expect([1, 2, 4, 8, 16, 32].every((i) => ids.has(i))).toBe(true);
    await importAndCheck("s2");
  });

  it("should close the same sets, and write the same files, whether the closure's queries run on one connection or three", async () => {
    const sample = { limits: { transfers: 5, audit: 10, ca: 1, squads: 1 }, include: { employees: { employees_manager_id_fkey: 2 } } };
    const config = sampleConfig(ws, { samples: { c1: sample, c3: sample } });
    const one = await runSample(config, source.url, { name: "c1", jobs: 1 });
    const three = await runSample(config, source.url, { name: "c3", jobs: 3 });
    expect(three.manifest.plan.workers).toBe(3);
    const tables = (r: typeof one) =>
      r.manifest.tables.map((t) => ({ table: t.table, rows: t.rows, sha256: t.sha256, pulledBy: t.pulledBy }));
    expect(tables(three)).toEqual(tables(one));
    expect(one.manifest.tables.find((t) => t.table === "employees")?.rows).toBeGreaterThan(5);
  });

  it("should take a keyless table whole with its duplicate rows and pull its parents from every row", async () => {
    const config = sampleConfig(ws, { samples: { s3: { limits: { audit: "all" } } } });
    const report = await runSample(config, source.url, { name: "s3" });
    expect(report.manifest.tables.find((t) => t.table === "audit")).toMatchObject({ rows: 220, source: "copy" });
    const out = await importAndCheck("s3");
    expect(out.audit).toEqual(await rowsOf(source.url, "audit"));
    expect(report.manifest.plan.mode).toBe("keyset");
  });

  it("should export every table whole as the direct plan, with fingerprints equal to the source", async () => {
    const config = sampleConfig(ws, { samples: { s4: { limits: { "*": "all" } } } });
    const report = await runSample(config, source.url, { name: "s4", jobs: 3 });
    expect(report.manifest.plan).toMatchObject({ mode: "direct", workers: 3 });
    expect(report.manifest.snapshot.id).toMatch(/^[0-9A-F]+-[0-9A-F]+/);
    const target = await freshDatabase({ migrate: false });
    try {
      await runSql(target.url, ...GRAPH_DDL);
      await importRelease(sampleConfig(ws), target.url, "s4");
      expect(await fingerprintsOf(target.url, GRAPH_TABLES)).toEqual(await fingerprintsOf(source.url, GRAPH_TABLES));
    } finally {
      await target.drop();
    }
  });

  it("should sample a percentage the same way twice (TABLESAMPLE … REPEATABLE)", async () => {
    const config = sampleConfig(ws, { samples: { p1: { limits: { transfers: "30%" }, seed: 7 } } });
    const a = await runSample(config, source.url, { name: "p1" });
    const b = await runSample(config, source.url, { name: "p1", force: true });
    const t = (r: typeof a) => r.manifest.tables.find((x) => x.table === "transfers");
    expect(t(a)?.rows).toBeGreaterThan(10);
    expect(t(a)?.rows).toBeLessThan(60);
    expect(t(b)?.sha256).toBe(t(a)?.sha256);
    await importAndCheck("p1");
  });
});

/** A report that is also someone's manager or mentor came in as a parent, not only as a capped child. */
function isParentOfAnother(x: Record<string, unknown>, all: Record<string, unknown>[]): boolean {
  return all.some((y) => y.manager_id === x.id || y.mentor_id === x.id);
}
