import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SampleConfigInput } from "../../src/config/samples-schema.js";
import { useTestProject } from "../fixtures/core/kit.js";
import { freshDatabase, runSql } from "../support/postgres.js";
import { GRAPH_DATA, GRAPH_DDL } from "./graph-schema.js";
import { expectNothingWritten, importRelease, orphanCount, readRows, runSample, SECRET, sampleConfig, sql } from "./support.js";

const ENV = "TEST_MASK_SECRET";
const { db: source, ws } = useTestProject({ migrate: false, scope: "suite" });
beforeAll(() => runSql(source.url, ...GRAPH_DDL, ...GRAPH_DATA));
afterEach(() => {
  delete process.env[ENV];
});

const masked = (extra: Partial<SampleConfigInput> = {}): SampleConfigInput => ({
  limits: { transfers: 40 },
  maskSecretEnv: ENV,
  masks: { "employees.email": "email", "employees.full_name": "name", "employees.phone": "phone", "employees.bio": "text" },
  ...extra,
});

async function run(name: string, sample: SampleConfigInput, force = false) {
  return runSample(sampleConfig(ws, { samples: { [name]: sample } }), source.url, { name, force });
}

describe("deterministic keyed masking", () => {
  it("should mask a key and every FK that references it identically, so the release imports with its FKs", async () => {
    process.env[ENV] = SECRET;
    const r = await run("m1", masked());
    const emps = await readRows(path.join(r.dir, "employees.ndjson"));
    const transfers = await readRows(path.join(r.dir, "transfers.ndjson"));
    const emails = new Set(emps.map((e) => e.email));
    expect(transfers.filter((t) => t.approver_email !== null).length).toBeGreaterThan(0);
    for (const t of transfers) if (t.approver_email !== null) expect(emails.has(t.approver_email)).toBe(true);
    for (const e of emps) {
      expect(e.email).toMatch(/^[a-z0-9]+\.[a-z0-9]+\.[0-9a-f]{6}@example\.com$/);
      expect(String(e.full_name).length).toBeLessThanOrEqual(40);
      expect(String(e.phone).length).toBeLessThanOrEqual(20);
      expect(String(e.bio)).not.toMatch(/bio/);
    }
    const original = (await sql<{ email: string }>(source.url, "SELECT email FROM employees")).map((x) => x.email);
    expect(original.some((o) => emails.has(o))).toBe(false);
    expect(r.manifest.masks).toContainEqual({ column: "transfers.approver_email", rule: "email", inheritedFrom: "employees.email" });
    expect(JSON.stringify(r.manifest)).not.toContain(SECRET);
    const target = await freshDatabase({ migrate: false });
    try {
      await runSql(target.url, ...GRAPH_DDL);
      await importRelease(sampleConfig(ws), target.url, "m1");
      expect(await orphanCount(target.url)).toBe(0);
    } finally {
      await target.drop();
    }
  });

  it("should mask a column whose type is a domain over text, and refuse one over a non-text type", async () => {
    process.env[ENV] = SECRET;
    await runSql(
      source.url,
      `CREATE DOMAIN contact_email AS text CHECK (VALUE LIKE '%@%')`,
      `CREATE DOMAIN score AS int CHECK (VALUE >= 0)`,
      `CREATE TABLE contacts (id int PRIMARY KEY, email contact_email NOT NULL UNIQUE, points score)`,
      `INSERT INTO contacts SELECT i, 'c' || i || '@corp.example', i FROM generate_series(1, 20) i`,
    );
    const r = await run("m-domain", {
      tables: ["contacts"],
      limits: { contacts: "all" },
      maskSecretEnv: ENV,
      masks: { "contacts.email": "email" },
    });
    const rows = await readRows(path.join(r.dir, "contacts.ndjson"));
    expect(rows).toHaveLength(20);
    for (const c of rows) expect(c.email).toMatch(/@example\.com$/);
    const e = await run("m-domain2", {
      tables: ["contacts"],
      limits: { contacts: "all" },
      maskSecretEnv: ENV,
      masks: { "contacts.points": "name" },
    }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "MASK_INVALID", field: "points" });
  });

  it("should cut masked values to the length of a domain over varchar(n), so the release imports", async () => {
    process.env[ENV] = SECRET;
    const ddl = [
      `CREATE DOMAIN short_email AS varchar(24) CHECK (VALUE LIKE '%@%')`,
      `CREATE DOMAIN short_name AS varchar(8)`,
      `CREATE TABLE badges (id int PRIMARY KEY, email short_email NOT NULL, holder short_name)`,
    ];
    await runSql(source.url, ...ddl, `INSERT INTO badges SELECT i, 'b' || i || '@x.io', 'B' || i FROM generate_series(1, 30) i`);
    const r = await run("m-domain3", {
      tables: ["badges"],
      limits: { badges: "all" },
      maskSecretEnv: ENV,
      masks: { "badges.email": "email", "badges.holder": "name" },
    });
    const rows = await readRows(path.join(r.dir, "badges.ndjson"));
    expect(rows).toHaveLength(30);
    for (const b of rows) {
      expect(String(b.email).length).toBeLessThanOrEqual(24);
      expect(b.email).toMatch(/@example\.com$/);
      expect(String(b.holder).length).toBeLessThanOrEqual(8);
    }
    const target = await freshDatabase({ migrate: false });
    try {
      await runSql(target.url, ...ddl);
      await importRelease(sampleConfig(ws), target.url, "m-domain3");
      expect((await sql<{ n: string }>(target.url, "SELECT count(*)::text AS n FROM badges"))[0]?.n).toBe("30");
    } finally {
      await target.drop();
    }
  });

  it("should give the same output for the same secret and another for another secret", async () => {
    process.env[ENV] = SECRET;
    const a = await run("m2", masked());
    const b = await run("m2", masked(), true);
    const emp = (r: typeof a) => r.manifest.tables.find((t) => t.table === "employees")?.sha256;
    expect(emp(b)).toBe(emp(a));
    process.env[ENV] = `${SECRET}-rotated`;
    const c = await run("m2", masked(), true);
    expect(emp(c)).not.toBe(emp(a));
  });
});

describe("masking refusals", () => {
  it("should refuse deterministic masking without the secret, and write nothing", async () => {
    const e = await run("m3", masked()).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "MASK_SECRET_MISSING", exitCode: 2 });
    process.env[ENV] = "short";
    expect(await run("m3", masked()).catch((x: unknown) => x)).toMatchObject({ code: "MASK_SECRET_MISSING" });
    await expectNothingWritten(path.join(ws.root, "releases", "m3"));
  });

  it("should refuse a mask that makes two unique values equal, naming the column, and write nothing", async () => {
    const e = await run("m4", masked({ masks: { "employees.email": { fixed: "same@example.com" } } })).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "MASK_COLLISION", exitCode: 5, table: "employees", field: "email" });
    await expectNothingWritten(path.join(ws.root, "releases", "m4"));
  });

  it("should refuse a mask whose values cannot fit the column before reading anything", async () => {
    expect(await run("m5", masked({ masks: { "employees.full_name": "null" } })).catch((x: unknown) => x)).toMatchObject({
      code: "MASK_INVALID",
      field: "full_name",
    });
    expect(await run("m5", masked({ masks: { "employees.phone": { fixed: "x".repeat(21) } } })).catch((x: unknown) => x)).toMatchObject({
      code: "MASK_INVALID",
    });
    process.env[ENV] = SECRET;
    const long = await run("m5", masked({ masks: { "employees.phone": { fn: (v: unknown) => `${String(v)}-${"9".repeat(30)}` } } })).catch(
      (x: unknown) => x,
    );
    expect(long).toMatchObject({ code: "MASK_INVALID", step: "write", field: "phone" });
    await expectNothingWritten(path.join(ws.root, "releases", "m5"));
  });
});

describe("user maskers", () => {
  it("should give a user function the run's keyed hash", async () => {
    process.env[ENV] = SECRET;
    const r = await run(
      "m6",
      masked({ masks: { "employees.bio": { fn: (_v, ctx) => `bio-${ctx.hash("x").slice(0, 8)}`, name: "bioHash" } } }),
    );
    const emps = await readRows(path.join(r.dir, "employees.ndjson"));
    expect(new Set(emps.map((e) => e.bio)).size).toBe(1);
    expect(r.manifest.masks).toEqual([{ column: "employees.bio", rule: "fn:bioHash", inheritedFrom: null }]);
  });
});
