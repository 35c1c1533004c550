/**
 * A part of a partitioned table, by the one-query plan: row ids are per partition, so the
 * same ctid in two partitions is two rows, and each partition's rows are read from it.
 * Both sides of an FK are partitioned here (sub-partitions included), and the release
 * imports into a fresh database with every FK on.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quoteIdent } from "../../src/sql/quote.js";
import { useTestProject } from "../fixtures/core/kit.js";
import { adminUrl, freshDatabase, runSql } from "../support/postgres.js";
import { importRelease, orphanCount, readRows, rowsOf, runSample, sampleConfig, sql } from "./support.js";
import path from "node:path";

const DDL = [
  `CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL)`,
  `CREATE TABLE events (id int NOT NULL, at date NOT NULL, account_id int NOT NULL REFERENCES accounts(id), kind text NOT NULL,
     PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`,
  `CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
  `CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY RANGE (at)`,
  `CREATE TABLE events_2026_h1 PARTITION OF events_2026 FOR VALUES FROM ('2026-01-01') TO ('2026-07-01')`,
  `CREATE TABLE events_2026_h2 PARTITION OF events_2026 FOR VALUES FROM ('2026-07-01') TO ('2027-01-01')`,
  `CREATE TABLE notes (id int PRIMARY KEY, event_id int NOT NULL, event_at date NOT NULL, body text NOT NULL,
     FOREIGN KEY (event_id, event_at) REFERENCES events(id, at))`,
  `CREATE TABLE clicks (id int NOT NULL, at date NOT NULL, event_id int NOT NULL, event_at date NOT NULL,
     PRIMARY KEY (id, at), FOREIGN KEY (event_id, event_at) REFERENCES events(id, at)) PARTITION BY RANGE (at)`,
  `CREATE TABLE clicks_h1 PARTITION OF clicks FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
  `CREATE TABLE clicks_h2 PARTITION OF clicks FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`,
];
const DATA = [
  `INSERT INTO accounts SELECT i, 'acct ' || i FROM generate_series(1, 40) i`,
  // ids 1..600 over 2025 and both halves of 2026: every leaf starts at ctid (0,1)
  `INSERT INTO events SELECT i, date '2025-07-01' + (i % 540), 1 + i % 40, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 600) i`,
  `INSERT INTO notes SELECT i, e.id, e.at, 'note ' || i FROM generate_series(1, 300) i JOIN events e ON e.id = 1 + (i * 7) % 600`,
  `INSERT INTO clicks SELECT i, e.at, e.id, e.at FROM generate_series(1, 900) i JOIN events e ON e.id = 1 + (i * 11) % 600`,
];
const TABLES = ["accounts", "events", "notes", "clicks"];

const role = `parent_reader_${randomBytes(3).toString("hex")}`;
const password = randomBytes(12).toString("hex");
// registered before the database, so it runs after the database is dropped (after-hooks run in reverse)
afterAll(() => runSql(adminUrl(), `DROP ROLE IF EXISTS ${quoteIdent(role)}`).catch(() => undefined));
const { db: source, ws } = useTestProject({ migrate: false, scope: "suite" });
const hashes = (r: Awaited<ReturnType<typeof runSample>>) =>
  r.manifest.tables.map((t) => ({ table: t.table, rows: t.rows, sha256: t.sha256 }));
beforeAll(() => runSql(source.url, ...DDL, ...DATA, "ANALYZE"));

describe("a part of a partitioned table", () => {
  it("should sample a partitioned child and close into a partitioned parent across its leaves, and import with every FK on", async () => {
    const config = sampleConfig(ws, {
      samples: { p: { tables: TABLES, limits: { clicks: "20%", notes: 25, events: 5 }, where: { accounts: "t.id <= 3" } } },
    });
    const r = await runSample(config, source.url, { name: "p" });
    expect(r.manifest.plan.mode).toBe("one-query");
    // the oracle: the same selection in SQL
    const [o] = await sql<{ events: string; accounts: string; clicks: string }>(
      source.url,
      `WITH c AS (SELECT * FROM clicks TABLESAMPLE BERNOULLI (20) REPEATABLE (0)),
            n AS (SELECT * FROM notes ORDER BY id LIMIT 25),
            e AS (SELECT id, at, account_id FROM events WHERE (id, at) IN (SELECT event_id, event_at FROM c)
                  UNION SELECT id, at, account_id FROM events WHERE (id, at) IN (SELECT event_id, event_at FROM n)
                  UNION (SELECT id, at, account_id FROM events ORDER BY id, at LIMIT 5))
       SELECT (SELECT count(*) FROM e)::text AS events, (SELECT count(*) FROM c)::text AS clicks,
              (SELECT count(*) FROM accounts WHERE id <= 3 OR id IN (SELECT account_id FROM e))::text AS accounts`,
    );
    const rows = Object.fromEntries(r.manifest.tables.map((t) => [t.table, t.rows]));
    expect(rows).toEqual({ accounts: Number(o?.accounts), events: Number(o?.events), notes: 25, clicks: Number(o?.clicks) });
    // rows of every leaf, none twice
    const events = await readRows(path.join(r.dir, "events.ndjson"));
    const keys = events.map((e) => `${String(e.id)}|${String(e.at)}`);
    expect(new Set(keys).size).toBe(keys.length);
    const leafOf = (at: string) => (at < "2026" ? "2025" : at < "2026-07" ? "2026 H1" : "2026 H2");
    expect(new Set(events.map((e) => leafOf(String(e.at))))).toEqual(new Set(["2025", "2026 H1", "2026 H2"]));
    const target = await freshDatabase({ migrate: false });
    try {
      await runSql(target.url, ...DDL);
      await importRelease(sampleConfig(ws), target.url, "p");
      expect(await orphanCount(target.url)).toBe(0);
      for (const t of TABLES) {
        const src = new Set(await rowsOf(source.url, t));
        const got = await rowsOf(target.url, t);
        expect(got).toHaveLength(rows[t] as number);
        for (const x of got) expect(src.has(x), `${t}: ${x}`).toBe(true);
      }
    } finally {
      await target.drop();
    }
  });

  it("should read a partition's rows through its parent: the parent's grants and row security, not the partition's", async () => {
    // partitions get no grant of their own, and one has row security on with no policy: read directly, it shows nothing
    await runSql(
      source.url,
      `CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${password}'`,
      `GRANT SELECT ON accounts, events, notes, clicks TO ${quoteIdent(role)}`,
      `ALTER TABLE events_2025 ENABLE ROW LEVEL SECURITY`,
    );
    try {
      const sample = { tables: TABLES, limits: { clicks: "20%", notes: 25, events: 5 }, where: { accounts: "t.id <= 3" } };
      const config = sampleConfig(ws, { samples: { owner: sample, reader: sample } });
      const owner = await runSample(config, source.url, { name: "owner" });
      const u = new URL(source.url);
      u.username = role;
      u.password = password;
      const reader = await runSample(config, u.toString(), { name: "reader" });
      expect(reader.manifest.plan.mode).toBe("one-query");
      expect(hashes(reader)).toEqual(hashes(owner));
      expect(reader.manifest.tables.find((t) => t.table === "events")?.rows).toBeGreaterThan(5);
    } finally {
      await runSql(source.url, `ALTER TABLE events_2025 DISABLE ROW LEVEL SECURITY`);
    }
  });

  it("should refuse a part of a partitioned table with a foreign-table partition, and take it whole", async () => {
    await runSql(
      source.url,
      `CREATE EXTENSION IF NOT EXISTS file_fdw`,
      `CREATE SERVER files FOREIGN DATA WRAPPER file_fdw`,
      `CREATE TABLE logs (at date NOT NULL, note text) PARTITION BY RANGE (at)`,
      `CREATE TABLE logs_2025 PARTITION OF logs FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
      `CREATE FOREIGN TABLE logs_old PARTITION OF logs FOR VALUES FROM ('2000-01-01') TO ('2025-01-01') SERVER files OPTIONS (filename '/dev/null', format 'csv')`,
      `INSERT INTO logs_2025 SELECT date '2025-03-01' + i, 'log ' || i FROM generate_series(1, 20) i`,
    );
    const config = sampleConfig(ws, {
      samples: {
        part: { tables: ["logs"], where: { logs: "t.note LIKE 'log 1%'" } },
        whole: { tables: ["logs"], limits: { logs: "all" } },
      },
    });
    const e = await runSample(config, source.url, { name: "part" }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "SAMPLE_UNSUPPORTED", table: "logs" });
    expect((e as Error).message).toContain("a partition of it is a foreign table");
    const whole = await runSample(config, source.url, { name: "whole" });
    expect(whole.manifest.tables[0]?.rows).toBe(20);
  });

  it("should read the rows of a partition attached after the snapshot's catalog was read from that partition", async () => {
    // a partition descriptor is not MVCC: the closure sees a partition attached after the plan was made
    await runSql(
      source.url,
      `CREATE TABLE events_2027 (LIKE events INCLUDING ALL)`,
      `INSERT INTO events_2027 SELECT 10000 + i, date '2027-03-01' + i, 1, 'z' FROM generate_series(1, 5) i`,
    );
    const config = sampleConfig(ws, { samples: { late: { tables: ["accounts", "events"], where: { events: "t.kind = 'z'" } } } });
    const r = await runSample(config, source.url, {
      name: "late",
      hooks: {
        afterSnapshot: () =>
          runSql(source.url, `ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')`),
      },
    });
    const events = await readRows(path.join(r.dir, "events.ndjson"));
    // whatever the closure took, every row written is one it took: kind z, from the new partition
    for (const e of events) expect(e).toMatchObject({ kind: "z" });
    expect(events.length).toBe(r.manifest.tables.find((t) => t.table === "events")?.rows);
  });
});
