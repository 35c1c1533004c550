import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { readCatalog } from "../../src/db/catalog.js";
import { pgTx } from "../../src/db/pg-client.js";
import { fkOrphans } from "../../src/sql/sample-statements.js";
import { useTestDatabase } from "../fixtures/core/kit.js";
import { runSql } from "../support/postgres.js";

/**
 * The snapshot's FK check (fkOrphans) counts what the FK constrains and what has no parent,
 * exactly, for the FK shapes the sampler supports: composite with a NULL part (MATCH SIMPLE:
 * not constrained), a unique non-PK key, a partitioned parent, and several FKs to one parent.
 * Each FK is NOT VALID, so the source holds orphans for the check to find.
 */
const db = useTestDatabase({ migrate: false, scope: "suite" });
beforeAll(async () => {
  await runSql(
    db.url,
    `CREATE TABLE regions (code text, n int, tag text UNIQUE, PRIMARY KEY (code, n))`,
    `INSERT INTO regions VALUES ('eu', 1, 't1'), ('eu', 2, 't2'), ('us', 1, 't3')`,
    `CREATE TABLE days (d date, id int, PRIMARY KEY (id, d)) PARTITION BY RANGE (d)`,
    `CREATE TABLE days_a PARTITION OF days FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
    `CREATE TABLE days_b PARTITION OF days FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`,
    `INSERT INTO days VALUES ('2025-05-01', 1), ('2026-05-01', 2)`,
    `CREATE TABLE shops (id int PRIMARY KEY, code text, n int, tag text, home_tag text, day date, day_id int)`,
    // constrained and found, constrained and missing, and a NULL part (not constrained)
    `INSERT INTO shops VALUES
       (1, 'eu', 1, 't1', 't2', '2025-05-01', 1),
       (2, 'eu', 9, 'nope', 't3', '2026-05-01', 2),
       (3, 'us', NULL, NULL, 'gone', '2026-05-01', 1),
       (4, NULL, 2, 't3', NULL, NULL, NULL)`,
    `ALTER TABLE shops ADD CONSTRAINT shops_region_fk FOREIGN KEY (code, n) REFERENCES regions (code, n) NOT VALID`,
    `ALTER TABLE shops ADD CONSTRAINT shops_tag_fk FOREIGN KEY (tag) REFERENCES regions (tag) NOT VALID`,
    `ALTER TABLE shops ADD CONSTRAINT shops_home_fk FOREIGN KEY (home_tag) REFERENCES regions (tag) NOT VALID`,
    `ALTER TABLE shops ADD CONSTRAINT shops_day_fk FOREIGN KEY (day_id, day) REFERENCES days (id, d) NOT VALID`,
  );
});

describe("fkOrphans", () => {
  it("should count the constrained child rows and those without a parent, per FK shape", async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const catalog = await readCatalog(pgTx(c), "public", ["regions", "days", "shops"]);
      const shops = catalog.get("shops");
      if (!shops) throw new Error("no shops");
      const counts: Record<string, { checked: number; missing: number }> = {};
      for (const fk of shops.foreignKeys) {
        const parent = catalog.get(fk.references.name);
        if (!parent) throw new Error(`no ${fk.references.name}`);
        const s = fkOrphans(fk, shops, parent);
        const [r] = (await c.query<{ checked: string; missing: string }>(s.text, s.values)).rows;
        counts[fk.name] = { checked: Number(r?.checked), missing: Number(r?.missing) };
      }
      expect(counts).toEqual({
        shops_region_fk: { checked: 2, missing: 1 }, // (eu,1) found, (eu,9) missing; (us,NULL), (NULL,2) not constrained
        shops_tag_fk: { checked: 3, missing: 1 }, // t1, t3 found; nope missing
        shops_home_fk: { checked: 3, missing: 1 }, // t2, t3 found; gone missing
        shops_day_fk: { checked: 3, missing: 1 }, // (1,2025-05-01), (2,2026-05-01) found; (1,2026-05-01) in no partition
      });
    } finally {
      await c.end();
    }
  });
});
