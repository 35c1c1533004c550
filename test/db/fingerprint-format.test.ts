import { describe, expect, it } from "vitest";
import { fingerprintTable, formatOf } from "../../src/db/fingerprint.js";
import { connect, pgTx } from "../../src/db/pg-client.js";
import { readBuckets } from "../../src/ledger/drift.js";
import { sql, useTestDatabase } from "../fixtures/core/kit.js";

/**
 * Format 2 fingerprints (hash_record_extended) over the column types real schemas have,
 * including those without a hash function (json, point, xml, tsvector) and those whose hash
 * is not the same in another database (enums hash their OID): each enters as text.
 */
const a = useTestDatabase({ migrate: false });
const b = useTestDatabase({ migrate: false });

// b creates a second enum first, so mood's OIDs there differ from a's
const SCHEMA = (extraEnumFirst: boolean) => [
  ...(extraEnumFirst ? ["CREATE TYPE other AS ENUM ('x', 'y', 'z')"] : []),
  "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
  "CREATE DOMAIN pos AS int CHECK (VALUE > 0)",
  "CREATE DOMAIN small_pos AS pos CHECK (VALUE < 1000)",
  `CREATE TABLE odd (id int PRIMARY KEY, j json, jb jsonb, p point, x xml, tv tsvector, m mood, ms mood[], ints int[],
     d pos, dd small_pos, n numeric(8, 2), ts timestamptz, u uuid, by bytea, t text, g int GENERATED ALWAYS AS (id * 2) STORED)`,
  `INSERT INTO odd (id, j, jb, p, x, tv, m, ms, ints, d, dd, n, ts, u, by, t)
     SELECT g, json_build_object('k', g), jsonb_build_object('k', g), point(g, g), xmlparse(content '<a>' || g || '</a>'),
            to_tsvector('simple', 'word ' || g), (ARRAY['sad', 'ok', 'happy'])[g % 3 + 1]::mood, ARRAY['ok', 'happy']::mood[], ARRAY[g, g + 1],
            g, g % 999 + 1, g / 7.0, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 hour', md5(g::text)::uuid, decode(md5(g::text), 'hex'), 'row ' || g
     FROM generate_series(1, 500) g`,
];

async function withTx<T>(url: string, fn: (tx: ReturnType<typeof pgTx>) => Promise<T>): Promise<T> {
  const c = await connect(url, "atomic-etl:test");
  try {
    return await fn(pgTx(c));
  } finally {
    await c.end();
  }
}

const odd = { schema: "public", name: "odd" };

describe("fingerprint format 2", () => {
  it("should hash every column type, agree across databases with different enum OIDs, and match its buckets", async () => {
    await sql(a.url, ...SCHEMA(false));
    await sql(b.url, ...SCHEMA(true));
    const [fa, fb] = [await withTx(a.url, (tx) => fingerprintTable(tx, odd)), await withTx(b.url, (tx) => fingerprintTable(tx, odd))];
    expect(formatOf(fa)).toBe(2);
    expect(fa.hash).toMatch(/^v2:-?\d+$/);
    expect(fa).toEqual({ rows: 500, hash: fb.hash });
    const buckets = await withTx(a.url, (tx) => readBuckets(tx, odd, ["id"], true));
    expect(buckets.fingerprint).toEqual(fa);
    expect(buckets.buckets.format).toBe(2);
    const keyless = await withTx(a.url, (tx) => readBuckets(tx, odd, []));
    expect(keyless.fingerprint).toEqual(fa);
  });

  it("should see a change in any one column, the ones hashed as text included", async () => {
    await sql(a.url, ...SCHEMA(false));
    const base = await withTx(a.url, (tx) => fingerprintTable(tx, odd));
    const changes = [
      "j = '{\"k\": -1}'",
      "jb = '{\"k\": -1}'",
      "p = point(-1, -1)",
      "x = '<b/>'",
      "tv = to_tsvector('simple', 'other')",
      "m = 'happy'",
      "ms = ARRAY['sad']::mood[]",
      "ints = ARRAY[0]",
      "d = 999",
      "dd = 998",
      "n = 0.01",
      "ts = now()",
      "u = gen_random_uuid()",
      "by = '\\x00'",
      "t = 'changed'",
    ];
    for (const set of changes) {
      const c = await connect(a.url, "atomic-etl:test");
      try {
        await c.query("BEGIN");
        await c.query(`UPDATE odd SET ${set} WHERE id = 3`);
        const changed = await fingerprintTable(pgTx(c), odd);
        expect(changed.rows, set).toBe(500);
        expect(changed.hash, set).not.toBe(base.hash);
        await c.query("ROLLBACK");
      } finally {
        await c.end();
      }
    }
    expect(await withTx(a.url, (tx) => fingerprintTable(tx, odd))).toEqual(base);
  });

  it("should see values swapped between two rows, distinct intervals, and case under a nondeterministic collation", async () => {
    await sql(
      a.url,
      "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
      "CREATE TABLE pairs (id int PRIMARY KEY, team int, span interval, name text COLLATE ci)",
      "INSERT INTO pairs VALUES (1, 10, '1 mon', 'Foo'), (2, 20, '1 day', 'bar')",
    );
    const pairs = { schema: "public", name: "pairs" };
    const print = () => withTx(a.url, (tx) => fingerprintTable(tx, pairs));
    const base = await print();
    // the hash of a row is linear in its columns' hashes: a plain sum would not see this swap
    await sql(a.url, "UPDATE pairs SET team = CASE id WHEN 1 THEN 20 ELSE 10 END");
    expect((await print()).hash).not.toBe(base.hash);
    await sql(a.url, "UPDATE pairs SET team = CASE id WHEN 1 THEN 10 ELSE 20 END");
    expect(await print()).toEqual(base);
    await sql(a.url, "UPDATE pairs SET span = '30 days' WHERE id = 1");
    expect((await print()).hash).not.toBe(base.hash);
    await sql(a.url, "UPDATE pairs SET span = '1 mon', name = 'foo' WHERE id = 1");
    expect((await print()).hash).not.toBe(base.hash);
  });

  it("should tell NULL from values whose hash is 0, and see the scale of a numeric and the shape of an array", async () => {
    await sql(
      a.url,
      "CREATE TABLE ev (id int PRIMARY KEY, score float8, payload jsonb, tags float4[], amount numeric, ints int[])",
      "INSERT INTO ev VALUES (1, 0, '{}', '{0,1}', 1.0, '{1,2,3,4}'), (2, 1.5, '\"x\"', '{2}', 2, '{5}')",
    );
    const ev = { schema: "public", name: "ev" };
    const print = () => withTx(a.url, (tx) => fingerprintTable(tx, ev));
    const base = await print();
    // each of these hashed the same as the value before it under the plain hash functions
    const changes = [
      "score = NULL WHERE id = 1", // float8 0 hashes 0, like NULL
      "score = '-0' WHERE id = 1",
      "payload = NULL WHERE id = 1", // jsonb {} hashes 0
      "payload = '[]' WHERE id = 1",
      "payload = '[\"x\"]' WHERE id = 2", // jsonb x and [x] hash alike
      "tags = '{NULL,1}' WHERE id = 1", // a NULL element and a 0.0 element
      "amount = 1.00 WHERE id = 1",
      "ints = '{{1,2},{3,4}}' WHERE id = 1", // an array's hash ignores its dimensions
    ];
    for (const set of changes) {
      const c = await connect(a.url, "atomic-etl:test");
      try {
        await c.query("BEGIN");
        await c.query(`UPDATE ev SET ${set}`);
        expect((await fingerprintTable(pgTx(c), ev)).hash, set).not.toBe(base.hash);
        await c.query("ROLLBACK");
      } finally {
        await c.end();
      }
    }
    expect(await print()).toEqual(base);
    // hashint8extended(h, 0) alone folds h to 32 bits: rows (1, 51053) and (1, 189187) then collide
    await sql(a.url, "CREATE TABLE k (id int PRIMARY KEY, team int)", "INSERT INTO k VALUES (1, 51053)");
    const k = { schema: "public", name: "k" };
    const before = await withTx(a.url, (tx) => fingerprintTable(tx, k));
    await sql(a.url, "UPDATE k SET team = 189187");
    expect((await withTx(a.url, (tx) => fingerprintTable(tx, k))).hash).not.toBe(before.hash);
  });

  it("should still compute format 1 (md5 of the row's text) for fingerprints an older version stored", async () => {
    await sql(a.url, ...SCHEMA(false));
    const [old] = await sql<{ rows: string; hash: string }>(
      a.url,
      "SELECT count(*)::bigint AS rows, COALESCE(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint::numeric), 0)::text AS hash FROM odd AS t",
    );
    const f1 = await withTx(a.url, (tx) => fingerprintTable(tx, odd, 1));
    expect(f1).toEqual({ rows: 500, hash: old?.hash });
    expect(formatOf(f1)).toBe(1);
    const buckets = await withTx(a.url, (tx) => readBuckets(tx, odd, ["id"], true, 1));
    expect(buckets.fingerprint).toEqual(f1);
    expect(buckets.buckets.format).toBeUndefined();
  });
});
