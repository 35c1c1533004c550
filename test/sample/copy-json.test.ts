import { readFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { useTestProject } from "../fixtures/core/kit.js";
import { freshDatabase, runSql } from "../support/postgres.js";
import { importRelease, readRows, runSample, sampleConfig, sql } from "./support.js";

/** Every type family the client-side encoder handles itself, and some it hands to to_json. */
const DDL = [
  `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`,
  `CREATE DOMAIN short_code AS varchar(8) CHECK (VALUE <> '')`,
  `CREATE TABLE zoo (
     id int PRIMARY KEY, s smallint, big bigint, num numeric(20,4), f4 real, f8 double precision, ok boolean,
     t text, vc varchar(30), ch char(4), u uuid, d date, tm time, ts timestamp(3), tz timestamptz, iv interval,
     b bytea, j json, jb jsonb, e mood, code short_code, ints int[], texts text[], total int GENERATED ALWAYS AS (id * 2) STORED)`,
  `INSERT INTO zoo (id, s, big, num, f4, f8, ok, t, vc, ch, u, d, tm, ts, tz, iv, b, j, jb, e, code, ints, texts) VALUES
     (1, -32768, 9007199254740993, 12345678901234.5678, 1.1, 5e-324, true,
      E'tab\\t nl\\n cr\\r bs\\\\ quote" bell\\x07 é 🎉', 'varchar', 'ab', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2026-02-28', '23:59:59.5',
      '2026-01-01 10:00:00.123', '2026-06-01 12:34:56.789+02', '1 day 02:03:04', E'\\\\x00ff5c0a', '{"a" : [1, 2.50],
      "a": "dup"}', '{"k": {"n": 1.5, "s": "x\\\\y\\n"}}', 'happy', 'C-1', '{1,NULL,3}', '{"a b","c\\\\d",NULL}'),
     (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
     (3, 0, -1, 0, -0, 1e300, false, '', '', '', NULL, '1000-01-01', '00:00', '1999-12-31 23:59:59', '1970-01-01 00:00:00+00', '-1 mons', '', '"text"', '[]', 'sad', 'Z', '{}', '{}')`,
];

const { db: source, ws } = useTestProject({ migrate: false, scope: "suite" });
beforeAll(() => runSql(source.url, ...DDL));

/** Every zoo row as the server's row_to_json writes it (json as jsonb, UTC), by id. */
const serverJson = () =>
  sql<{ j: Record<string, unknown> }>(
    source.url,
    "SET TimeZone = 'UTC'",
    `SELECT row_to_json(x) AS j FROM (SELECT id, s, big, num, f4, f8, ok, t, vc, ch, u, d, tm, ts, tz, iv, b, j::jsonb AS j, jb, e, code, ints, texts FROM zoo) x ORDER BY id`,
  );

describe("JSON built by the client from COPY text", () => {
  it("should write what row_to_json writes (json as jsonb), generated columns left out", async () => {
    const r = await runSample(sampleConfig(ws, { samples: { zoo: { limits: { zoo: "all" } } } }), source.url, { name: "zoo" });
    expect(r.manifest.tables[0]?.source).toBe("copy");
    const ours = await readRows(path.join(r.dir, "zoo.ndjson"));
    const server = await serverJson();
    // pg parses the big int8 and the numeric into doubles here too: compare on equal footing
    expect([...ours].sort((a, b) => Number(a.id) - Number(b.id))).toEqual(server.map((x) => x.j));
    expect(ours.find((x) => x.id === 1)).toMatchObject({
      t: 'tab\t nl\n cr\r bs\\ quote" bell\u0007 é 🎉',
      b: "\\x00ff5c0a",
      j: { a: "dup" },
    });
  });

  it("should write the same JSON for rows taken by id (a sample's keyed batches) as for a whole table", async () => {
    // 2 of the 3 rows: a row limit, so the table is read by row id, not by COPY
    const r = await runSample(sampleConfig(ws, { samples: { zoo2: { limits: { zoo: 2 } } } }), source.url, { name: "zoo2" });
    expect(r.manifest.tables[0]?.source).toBe("keys");
    const ours = await readRows(path.join(r.dir, "zoo.ndjson"));
    const server = await serverJson();
    // a row limit takes the lowest primary keys
    expect(ours.map((x) => x.id).sort()).toEqual([1, 2]);
    for (const row of ours) expect(row).toEqual(server.find((x) => x.j.id === row.id)?.j);
    // and digit for digit, not only as doubles
    const text = await readFile(path.join(r.dir, "zoo.ndjson"), "utf8");
    expect(text).toContain('"big":9007199254740993,"num":12345678901234.5678');
  });

  it("should import back into a fresh database row for row (json compared as jsonb)", async () => {
    const target = await freshDatabase({ migrate: false });
    try {
      await runSql(target.url, ...DDL.slice(0, 3));
      await importRelease(sampleConfig(ws), target.url, "zoo");
      // json keeps its text in the source; the release carries it as jsonb (what JSON.parse would keep)
      const norm = `SELECT md5(string_agg((z.id, z.s, z.big, z.num, z.f4, z.f8, z.ok, z.t, z.vc, z.ch, z.u, z.d, z.tm, z.ts, z.tz, z.iv, z.b, z.j::jsonb, z.jb, z.e, z.code, z.ints, z.texts)::text, ',' ORDER BY z.id)) AS h FROM zoo z`;
      const rows = `SELECT (z.id, z.s, z.big, z.num, z.f4, z.f8, z.ok, z.t, z.vc, z.ch, z.u, z.d, z.tm, z.ts, z.tz, z.iv, z.b, z.j::jsonb, z.jb, z.e, z.code, z.ints, z.texts)::text AS r FROM zoo z ORDER BY z.id`;
      expect(await sql(target.url, rows)).toEqual(await sql(source.url, rows));
      expect(await sql(target.url, norm)).toEqual(await sql(source.url, norm));
    } finally {
      await target.drop();
    }
  });
});
