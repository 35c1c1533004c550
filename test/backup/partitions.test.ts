/**
 * Partitioned targets (issue 13, point 1): pg_dump --table=<parent> dumps no rows on PG 15, they
 * live in the partitions. Backups dump every leaf partition with its parent and verify by their
 * TABLE DATA; restores clear through the parent and replay the partitions' data.
 */
import { randomBytes } from "node:crypto";
import { execa } from "execa";
import { beforeEach, describe, expect, it } from "vitest";
import { takeBackup } from "../../src/backup/pg-dump.js";
import { restoreBackup } from "../../src/backup/restore.js";
import { rejection, sql, useTestProject } from "../fixtures/core/kit.js";
import { pgBinaries } from "../support/postgres.js";
import { fingerprintsOf } from "./support.js";

const SCHEMA = [
  "CREATE TABLE sensors (id int PRIMARY KEY, name text NOT NULL)",
  // range-partitioned, with a default partition
  `CREATE TABLE readings (sensor_id int NOT NULL REFERENCES sensors(id), at date NOT NULL, value numeric, PRIMARY KEY (sensor_id, at)) PARTITION BY RANGE (at)`,
  "CREATE TABLE readings_2026_01 PARTITION OF readings FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')",
  "CREATE TABLE readings_2026_02 PARTITION OF readings FOR VALUES FROM ('2026-02-01') TO ('2026-03-01')",
  "CREATE TABLE readings_default PARTITION OF readings DEFAULT",
  // range-partitioned, no default, a sequence
  "CREATE TABLE events (id bigserial, at timestamptz NOT NULL, kind text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)",
  "CREATE TABLE events_2026_h1 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-07-01')",
  "CREATE TABLE events_2026_h2 PARTITION OF events FOR VALUES FROM ('2026-07-01') TO ('2027-01-01')",
  // sub-partitioned (range, then list), one partition in another schema
  "CREATE TABLE samples (site text NOT NULL, at date NOT NULL, n int) PARTITION BY RANGE (at)",
  "CREATE TABLE samples_2026 PARTITION OF samples FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY LIST (site)",
  "CREATE TABLE samples_2026_north PARTITION OF samples_2026 FOR VALUES IN ('north')",
  "CREATE TABLE samples_2026_other PARTITION OF samples_2026 DEFAULT",
  "CREATE SCHEMA archive",
  "CREATE TABLE archive.samples_2025 PARTITION OF samples FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
  "INSERT INTO sensors SELECT i, 'sensor ' || i FROM generate_series(1, 5) i",
  "INSERT INTO readings SELECT 1 + i % 5, date '2025-12-20' + (i / 5), i * 1.5 FROM generate_series(0, 399) i",
  "INSERT INTO events (at, kind) SELECT timestamptz '2026-01-01 00:00+00' + i * interval '1 day', 'k' || i % 3 FROM generate_series(0, 299) i",
  "INSERT INTO samples SELECT CASE WHEN i % 3 = 0 THEN 'north' ELSE 'south' END, date '2025-06-01' + i, i FROM generate_series(0, 399) i",
];

const TARGETS = ["readings", "events", "samples"];
const LEAVES = [
  "archive.samples_2025",
  "events_2026_h1",
  "events_2026_h2",
  "readings_2026_01",
  "readings_2026_02",
  "readings_default",
  "samples_2026_north",
  "samples_2026_other",
];

const { db, ws } = useTestProject({ migrate: false });
beforeEach(() => sql(db.url, ...SCHEMA));

const backup = (tables: string[], mode: "tables" | "full" = "tables") =>
  takeBackup({
    url: db.url,
    schema: "public",
    tables,
    dir: ws.backupDir,
    mode,
    environment: "local",
    release: "partitions",
    releaseHash: null,
    runId: randomBytes(8).toString("hex"),
  });

/** Rows per leaf partition and per table: where every row lives. */
const counts = async () =>
  Object.fromEntries(
    (
      await sql<{ t: string; n: string }>(
        db.url,
        `SELECT t, n FROM (${[...LEAVES, ...TARGETS, "sensors"].map((t) => `SELECT '${t}' AS t, count(*)::text AS n FROM ${t}`).join(" UNION ALL ")}) x ORDER BY t`,
      )
    ).map((r) => [r.t, Number(r.n)]),
  );

const dataEntries = async (dumpPath: string) =>
  (await execa((await pgBinaries()).pg_restore, ["--list", dumpPath])).stdout
    .split("\n")
    .filter((l) => l.includes(" TABLE DATA "))
    .map((l) => l.replace(/^.* TABLE DATA (\S+) (\S+) .*$/, "$1.$2").replace(/^public\./, ""))
    .sort();

describe("partitioned targets", () => {
  it("should back up range, default and sub-partitioned tables with every leaf partition's data, fingerprinted through the parent", async () => {
    const b = await backup(TARGETS);

    expect(await dataEntries(b.dumpPath)).toEqual(LEAVES);
    const fp = await fingerprintsOf(db.url, TARGETS);
    for (const t of TARGETS) expect({ rows: b.manifest.tables[t]!.rows, hash: b.manifest.tables[t]!.hash }).toEqual(fp[t]);
    expect(b.manifest.tables.readings!.rows).toBe(400);
    expect(b.manifest.tables.samples!.partitions).toEqual([
      { schema: "archive", name: "samples_2025" },
      { schema: "public", name: "samples_2026_north" },
      { schema: "public", name: "samples_2026_other" },
    ]);
  });

  it("should restore partitioned tables through their parents, every row back in its partition, sequences raised", async () => {
    const b = await backup(TARGETS);
    const before = await counts();
    const fp = await fingerprintsOf(db.url, TARGETS);
    await sql(
      db.url,
      "DELETE FROM readings WHERE at < '2026-01-01'",
      "UPDATE readings SET value = 0 WHERE at >= '2026-02-01'",
      "INSERT INTO events (at, kind) SELECT timestamptz '2026-08-01 00:00+00', 'late' FROM generate_series(1, 50)",
      "DELETE FROM samples WHERE site = 'north'",
      "TRUNCATE archive.samples_2025",
    );

    const r = await restoreBackup(db.url, b.dumpPath, b.manifest);

    expect(r.rows).toBe(400 + 300 + 400);
    expect(await fingerprintsOf(db.url, TARGETS)).toEqual(fp);
    expect(await counts()).toEqual(before);
    const [next] = await sql<{ n: string }>(db.url, "SELECT nextval('events_id_seq')::text AS n");
    expect(Number(next!.n)).toBeGreaterThan(350);
  });

  it("should empty a partition added after the backup, and refuse when a backed-up partition is gone", async () => {
    const b = await backup(["readings"]);
    const fp = await fingerprintsOf(db.url, ["readings"]);
    await sql(
      db.url,
      "CREATE TABLE readings_2027_01 PARTITION OF readings FOR VALUES FROM ('2027-01-01') TO ('2027-02-01')",
      "INSERT INTO readings VALUES (1, '2027-01-05', 1)",
    );

    await restoreBackup(db.url, b.dumpPath, b.manifest);
    expect(await fingerprintsOf(db.url, ["readings"])).toEqual(fp);

    await sql(db.url, "ALTER TABLE readings DETACH PARTITION readings_2026_02", "DROP TABLE readings_2026_02");
    const e = await rejection(restoreBackup(db.url, b.dumpPath, b.manifest));
    expect(e.code).toBe("RESTORE_SCHEMA_MISMATCH");
    expect(e.message).toContain(
      "readings: partition public.readings_2026_02, which holds rows in the backup, is no longer one of its partitions",
    );
  });

  it("should back up and restore the whole database with --backup full, partitions included", async () => {
    const b = await backup(["sensors"], "full");
    expect(await dataEntries(b.dumpPath)).toEqual([...LEAVES, "sensors"].sort());
    expect(b.manifest.otherTables.map((t) => `${t.schema}.${t.name}`)).toEqual(["public.events", "public.readings", "public.samples"]);
    const fp = await fingerprintsOf(db.url, [...TARGETS, "sensors"]);
    await sql(db.url, "DELETE FROM readings", "UPDATE sensors SET name = 'x'", "DELETE FROM samples WHERE n > 10");

    await restoreBackup(db.url, b.dumpPath, b.manifest, { tables: "all" });

    expect(await fingerprintsOf(db.url, [...TARGETS, "sensors"])).toEqual(fp);
  });

  it("should restore a table that a partitioned table outside the backup references, keeping its rows and FK", async () => {
    const b = await backup(["sensors"]);
    const readings = await fingerprintsOf(db.url, ["readings"]);
    const fks = () => sql(db.url, "SELECT conrelid::regclass::text AS t, conname FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2");
    const before = await fks();
    await sql(db.url, "UPDATE sensors SET name = 'renamed'");

    const r = await restoreBackup(db.url, b.dumpPath, b.manifest);

    expect(r.foreignKeys).toEqual(["public.readings.readings_sensor_id_fkey"]);
    expect(await fingerprintsOf(db.url, ["readings"])).toEqual(readings);
    expect(await fks()).toEqual(before);
  });
});
