import { describe, expect, it } from "vitest";
import { fingerprintTable } from "../../src/db/fingerprint.js";
import { connect, pgTx } from "../../src/db/pg-client.js";
import { readBuckets } from "../../src/ledger/drift.js";
import { FINGERPRINT_BUCKETS } from "../../src/sql/fingerprint-buckets.js";
import { sql, useTestDatabase } from "../fixtures/core/kit.js";

/**
 * The ledger's bucketed fingerprint must add up to exactly the plain one (a redeploy and drift
 * compare them), for every way a row finds its bucket: an integer key, a text key, no key.
 */
const db = useTestDatabase({ seed: false });

describe("bucketed fingerprints", () => {
  it("should add up, bucket by bucket, to the plain fingerprint with an integer key, a text key and no key", async () => {
    await sql(
      db.url,
      "CREATE TABLE by_int (id int PRIMARY KEY, v text)",
      "CREATE TABLE by_text (code text PRIMARY KEY, v numeric)",
      "CREATE TABLE no_key (v text, n int)",
      "INSERT INTO by_int SELECT g, 'v' || g FROM generate_series(-300, 2700) g",
      "INSERT INTO by_text SELECT 'c' || g, g / 7.0 FROM generate_series(1, 3000) g",
      "INSERT INTO no_key SELECT CASE WHEN g % 5 = 0 THEN NULL ELSE 'x' || (g % 40) END, g % 3 FROM generate_series(1, 3000) g",
    );
    const client = await connect(db.url, "atomic-etl:test");
    try {
      const tx = pgTx(client);
      const cases = [
        { table: "by_int", key: ["id"], integer: true },
        { table: "by_text", key: ["code"], integer: false },
        { table: "no_key", key: [], integer: false },
      ];
      for (const c of cases) {
        const name = { schema: "public", name: c.table };
        const { fingerprint, buckets } = await readBuckets(tx, name, c.key, c.integer);
        expect(fingerprint, c.table).toEqual(await fingerprintTable(tx, name));
        expect(fingerprint.rows, c.table).toBe(c.table === "by_int" ? 3001 : 3000);
        expect(buckets.counts, c.table).toHaveLength(FINGERPRINT_BUCKETS);
        expect(
          buckets.counts.reduce((a, n) => a + n, 0),
          c.table,
        ).toBe(fingerprint.rows);
      }
      // an integer key is its own bucket: key mod 256, negative keys included
      const perBucket = await sql<{ b: number; n: number }>(
        db.url,
        "SELECT ((id % 256) + 256) % 256 AS b, count(*)::int AS n FROM by_int GROUP BY 1",
      );
      const { buckets } = await readBuckets(tx, { schema: "public", name: "by_int" }, ["id"], true);
      for (const r of perBucket) expect(buckets.counts[r.b]).toBe(r.n);
    } finally {
      await client.end();
    }
  });
});
