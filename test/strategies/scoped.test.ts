import { beforeEach, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/config/schema.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { failure, openReader, readAll, sql, useTestProject, workTables } from "./fixtures.js";

const { db, ws } = useTestProject({ seed: false });

const TABLES = ["stations", "readings"];

beforeEach(async () => {
  await sql(
    db.url,
    `CREATE TABLE stations (id int PRIMARY KEY, dataset text NOT NULL, name text NOT NULL)`,
    `CREATE TABLE readings (id int PRIMARY KEY, dataset text NOT NULL, station_id int NOT NULL REFERENCES stations (id), value numeric(8, 2), taken_at timestamptz NOT NULL)`,
    `INSERT INTO stations VALUES (1, 'eu', 'Vienna'), (2, 'eu', 'Lyon'), (10, 'us', 'Denver'), (11, 'us', 'Austin')`,
    `INSERT INTO readings VALUES (100, 'eu', 1, 1.50, '2026-01-01T00:00:00Z'), (101, 'eu', 2, 2.25, '2026-01-01T00:00:00Z'),
                                 (200, 'us', 10, 3.00, '2026-01-01T00:00:00Z'), (201, 'us', 11, NULL, '2026-01-02T00:00:00Z')`,
  );
});

const EU_RELEASE = {
  "stations.json": [
    { id: 1, dataset: "eu", name: "Wien" },
    { id: 3, dataset: "eu", name: "Porto" },
  ],
  "readings.json": [
    { id: 100, dataset: "eu", station_id: 1, value: 1.75, taken_at: "2026-02-01T00:00:00Z" },
    { id: 102, dataset: "eu", station_id: 3, value: 9.5, taken_at: "2026-02-01T00:00:00Z" },
  ],
};

const release = (extra: Partial<ConfigInput["releases"][string]> = {}): ConfigInput["releases"] => ({
  eu: {
    strategy: "scoped",
    scope: { dataset: "eu" },
    tables: [
      { table: "stations", file: "stations.json" },
      { table: "readings", file: "readings.json" },
    ],
    ...extra,
  },
});

/** Rows of another scope, physically: row text plus the row version's xmin and ctid. */
async function physicalRows(url: string, dataset: string): Promise<string[]> {
  const out: string[] = [];
  for (const t of TABLES) {
    const rows = await sql<{ r: string }>(url, {
      text: `SELECT xmin::text || ' ' || ctid::text || ' ' || x::text AS r FROM ${t} x WHERE dataset = $1 ORDER BY id`,
      values: [dataset],
    });
    out.push(...rows.map((r) => `${t}: ${r.r}`));
  }
  return out;
}

describe("scoped", () => {
  it("should replace only the rows of its scope and leave every row of other scopes byte-identical (same row versions)", async () => {
    await ws.writeRelease("eu", EU_RELEASE);
    const us = await physicalRows(db.url, "us");
    const reader = await openReader(db.url, { statementTimeoutMs: 1_000 });
    const old = await readAll(reader, TABLES);
    const seen: Record<string, string[]>[] = [];

    const report = await new AtomicEtl(ws.config(release())).import({
      release: "eu",
      url: db.url,
      backup: false,
      batchSize: 1,
      hooks: {
        afterBatch: async () => void seen.push(await readAll(reader, TABLES)),
        beforeCommit: async () => void seen.push(await readAll(reader, TABLES)),
      },
    });
    await reader.end();

    expect(report.strategy).toBe("scoped");
    expect(report.tables.map((t) => [t.table, t.applied?.deleted, t.applied?.inserted])).toEqual([
      ["stations", 2, 2],
      ["readings", 2, 2],
    ]);
    expect(await physicalRows(db.url, "us")).toEqual(us);
    expect(await sql(db.url, `SELECT id, name FROM stations WHERE dataset = 'eu' ORDER BY id`)).toEqual([
      { id: 1, name: "Wien" },
      { id: 3, name: "Porto" },
    ]);
    expect(await sql(db.url, `SELECT id, station_id, value::text FROM readings WHERE dataset = 'eu' ORDER BY id`)).toEqual([
      { id: 100, station_id: 1, value: "1.75" },
      { id: 102, station_id: 3, value: "9.50" },
    ]);
    for (const rows of seen) expect(rows).toEqual(old);
    expect(await workTables(db.url)).toEqual([]);
  });

  it("should refuse staged rows outside the scope before touching any table", async () => {
    await ws.writeRelease("eu", {
      ...EU_RELEASE,
      "readings.json": [
        ...EU_RELEASE["readings.json"],
        { id: 300, dataset: "us", station_id: 10, value: 1, taken_at: "2026-02-01T00:00:00Z" },
      ],
    });
    const before = [...(await physicalRows(db.url, "eu")), ...(await physicalRows(db.url, "us"))];

    const f = await failure(new AtomicEtl(ws.config(release())).import({ release: "eu", url: db.url, backup: false }));

    expect(f.error.code).toBe("VALIDATION_FAILED");
    expect(f.error.step).toBe("validate");
    expect(f.error.table).toBe("readings");
    expect(f.error.field).toBe("dataset");
    expect(f.error.message).toContain('dataset = "us"');
    expect(f.error.data).toBe("rolled back; database unchanged");
    expect([...(await physicalRows(db.url, "eu")), ...(await physicalRows(db.url, "us"))]).toEqual(before);
    expect(await workTables(db.url)).toEqual([]);
  });

  it("should refuse a staged key that collides with a row of another scope", async () => {
    await ws.writeRelease("eu", {
      ...EU_RELEASE,
      "stations.json": [...EU_RELEASE["stations.json"], { id: 10, dataset: "eu", name: "Not Denver" }],
    });

    const f = await failure(new AtomicEtl(ws.config(release())).import({ release: "eu", url: db.url, backup: false }));

    expect(f.error.code).toBe("DUPLICATE_KEY");
    expect(f.error.table).toBe("stations");
    expect(f.error.field).toBe("id");
    expect(f.error.message).toContain("outside the scope");
  });

  it("should refuse to drop a row that a row of another scope still references", async () => {
    // a us reading taken at the eu station that the release no longer has
    await sql(db.url, `INSERT INTO readings VALUES (202, 'us', 2, 4.00, '2026-01-03T00:00:00Z')`);
    await ws.writeRelease("eu", EU_RELEASE);

    const f = await failure(new AtomicEtl(ws.config(release())).import({ release: "eu", url: db.url, backup: false }));

    expect(f.error.code).toBe("FK_VIOLATION");
    expect(f.error.table).toBe("readings");
    expect(f.error.field).toBe("station_id");
    expect(f.error.message).toContain("station_id = 2");
    expect(f.error.data).toBe("rolled back; database unchanged");
  });

  it("should refuse to run without a scope on a column of every table", async () => {
    await ws.writeRelease("eu", EU_RELEASE);

    const missing = await failure(
      new AtomicEtl(ws.config(release({ scope: undefined }))).import({ release: "eu", url: db.url, backup: false }),
    );
    const wrong = await failure(
      new AtomicEtl(ws.config(release({ scope: { region: "eu" } }))).import({ release: "eu", url: db.url, backup: false }),
    );

    expect(missing.error.code).toBe("CONFIG_INVALID");
    expect(missing.error.message).toContain("stations has no scope");
    expect(wrong.error.code).toBe("CONFIG_INVALID");
    expect(wrong.error.message).toContain("stations has no column region");
  });
});
