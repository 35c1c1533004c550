import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../../tools/harness/throwaway-postgres.js";
import { quoteIdent } from "../../src/sql/quote.js";
import { useTestDatabase, useTestWorkspace } from "../fixtures/core/kit.js";
import { adminUrl, databaseUrl, freshDatabase, runSql } from "../support/postgres.js";
import { type Standby, startStandby } from "../support/standby.js";
import { GRAPH_DATA, GRAPH_DDL, GRAPH_TABLES } from "./graph-schema.js";
import { expectNothingWritten, fingerprintsOf, importRelease, orphanCount, runSample, sampleConfig, sql } from "./support.js";

const ws = useTestWorkspace({ scope: "suite" });

/** Imports into a fresh database with the graph DDL; returns its fingerprints. */
async function importFresh(name: string) {
  const target = await freshDatabase({ migrate: false });
  try {
    await runSql(target.url, ...GRAPH_DDL);
    await importRelease(sampleConfig(ws), target.url, name);
    expect(await orphanCount(target.url)).toBe(0);
    return await fingerprintsOf(target.url, GRAPH_TABLES);
  } finally {
    await target.drop();
  }
}

describe("a role that may only SELECT", () => {
  const role = `reader_${randomBytes(3).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  // registered before the database, so it runs after the database is dropped (after-hooks run in
  // reverse): until then the role holds grants there and cannot be dropped
  afterAll(() => runSql(adminUrl(), `DROP ROLE IF EXISTS ${quoteIdent(role)}`).catch(() => undefined));
  const source = useTestDatabase({ migrate: false, scope: "suite" });
  let url: string;
  beforeAll(async () => {
    await runSql(
      source.url,
      ...GRAPH_DDL,
      ...GRAPH_DATA,
      `CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${password}'`,
      // no TEMP, no CREATE: any temp table or schema the sampler tried would fail
      `REVOKE TEMPORARY, CREATE ON DATABASE ${quoteIdent(source.name)} FROM PUBLIC`,
      `REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${quoteIdent(role)}`,
    );
    const u = new URL(source.url);
    u.username = role;
    u.password = password;
    url = u.toString();
  });

  it("should sample and export in full with only SELECT, leaving the source's statistics of writes unchanged", async () => {
    const writes = () =>
      sql<{ n: string }>(source.url, "SELECT sum(n_tup_ins + n_tup_upd + n_tup_del)::text AS n FROM pg_stat_user_tables");
    const before = await writes();
    const config = sampleConfig(ws, {
      samples: {
        ro: { limits: { transfers: 10 } },
        one: { tables: ["orgs", "regions"], limits: { regions: 3 } },
        all: { limits: { "*": "all" } },
      },
    });
    const r = await runSample(config, url, { name: "ro", jobs: 2 });
    expect(r.manifest.source.standby).toBe(false);
    await importFresh("ro");
    const one = await runSample(config, url, { name: "one", jobs: 2 });
    expect(one.manifest.plan.mode).toBe("one-query");
    await importFresh("one");
    await runSample(config, url, { name: "all", jobs: 2 });
    expect(await importFresh("all")).toEqual(await fingerprintsOf(source.url, GRAPH_TABLES));
    expect(await writes()).toEqual(before);
  });

  it("should refuse, naming it, a table the role cannot SELECT, and write nothing", async () => {
    await runSql(source.url, `REVOKE SELECT ON audit FROM ${quoteIdent(role)}`);
    try {
      const config = sampleConfig(ws, { samples: { denied: { limits: { "*": 5 } } } });
      const e = await runSample(config, url, { name: "denied" }).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: "SOURCE_PERMISSION_DENIED", exitCode: 6, data: "untouched", meta: { tables: ["audit"] } });
      await expectNothingWritten(`${ws.root}/releases/denied`);
    } finally {
      await runSql(source.url, `GRANT SELECT ON audit TO ${quoteIdent(role)}`);
    }
  });
});

describe("a real streaming hot standby", () => {
  let primary: ThrowawayPostgres;
  let standby: Standby;
  beforeAll(async () => {
    primary = await startThrowawayPostgres();
    await primary.createDatabase("app");
    await runSql(primary.urlFor("app"), ...GRAPH_DDL, ...GRAPH_DATA);
    standby = await startStandby(primary);
    await standby.caughtUp();
  }, 180_000);
  afterAll(async () => {
    await standby?.stop();
    await primary?.stop();
  });

  it("should sample from the standby in one exported snapshot and import with every FK on", async () => {
    const url = standby.urlFor("app");
    expect((await sql<{ r: boolean }>(url, "SELECT pg_is_in_recovery() AS r"))[0]?.r).toBe(true);
    const config = sampleConfig(ws, {
      samples: { replica: { limits: { transfers: 20, audit: 20 } }, replicaAll: { limits: { "*": "all" } } },
    });
    const r = await runSample(config, url, { name: "replica", jobs: 2 });
    expect(r.manifest.source).toMatchObject({ database: "app", standby: true });
    expect(r.manifest.snapshot.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    await importFresh("replica");
    const all = await runSample(config, url, { name: "replicaAll", jobs: 3 });
    expect(all.manifest.plan.workers).toBe(3);
    expect(all.manifest.snapshot.id).toMatch(/^[0-9A-F]+-[0-9A-F]+/);
    expect(await importFresh("replicaAll")).toEqual(await fingerprintsOf(databaseUrl(primary.url, "app"), GRAPH_TABLES));
  });

  it("should close a one-query sample on the standby with its CTEs spilled to temp files", async () => {
    const app = primary.urlFor("app");
    const ddl = [
      `CREATE TABLE spill_p (id int PRIMARY KEY, note text NOT NULL)`,
      `CREATE TABLE spill_c (id int PRIMARY KEY, p_id int NOT NULL REFERENCES spill_p(id))`,
    ];
    await runSql(
      app,
      ...ddl,
      `INSERT INTO spill_p SELECT i, 'p' || i FROM generate_series(1, 20000) i`,
      `INSERT INTO spill_c SELECT i, 1 + (i * 7) % 20000 FROM generate_series(1, 40000) i`,
      // the least work_mem: the closure's CTEs cannot stay in memory
      `ALTER DATABASE app SET work_mem = '64kB'`,
    );
    try {
      await standby.caughtUp();
      const url = standby.urlFor("app");
      const tempFiles = async () =>
        Number((await sql<{ n: string }>(url, "SELECT temp_files::text AS n FROM pg_stat_database WHERE datname = 'app'"))[0]?.n);
      const before = await tempFiles();
      const config = sampleConfig(ws, { samples: { spill: { tables: ["spill_p", "spill_c"], limits: { spill_c: "50%" } } } });
      const r = await runSample(config, url, { name: "spill" });
      expect(r.manifest).toMatchObject({ plan: { mode: "one-query" }, source: { standby: true } });
      // a backend's statistics reach pg_stat_database when it flushes them, at the latest as it exits
      await expect.poll(tempFiles, { timeout: 10_000, interval: 100 }).toBeGreaterThan(before);
      const c = r.manifest.tables.find((t) => t.table === "spill_c")?.rows ?? 0;
      expect(c).toBeGreaterThan(15000);
      const [oracle] = await sql<{ n: string }>(
        url,
        `SELECT count(DISTINCT p_id)::text AS n FROM spill_c TABLESAMPLE BERNOULLI (50) REPEATABLE (0)`,
      );
      expect(r.manifest.tables.find((t) => t.table === "spill_p")?.rows).toBe(Number(oracle?.n));
      const target = await freshDatabase({ migrate: false });
      try {
        await runSql(target.url, ...ddl);
        await importRelease(sampleConfig(ws), target.url, "spill");
        expect(await orphanCount(target.url)).toBe(0);
      } finally {
        await target.drop();
      }
    } finally {
      await runSql(app, `ALTER DATABASE app RESET work_mem`);
    }
  });
});
