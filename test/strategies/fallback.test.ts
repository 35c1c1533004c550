import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { quoteIdent } from "../../src/sql/quote.js";
import { adminUrl } from "../support/postgres.js";
import { ALL_TABLES, failure, snapshot, sql, STANDARD_TABLES, useTestProject, workTables } from "./fixtures.js";

const { db, ws } = useTestProject({ release: true });
/** A role that owns the tables but may not create TEMP tables. */
let role: string;
let roleUrl: string;

beforeEach(async () => {
  role = `etl_no_temp_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  await sql(adminUrl(), `CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${password}'`);
  await sql(
    db.url,
    `REVOKE TEMPORARY ON DATABASE ${quoteIdent(db.name)} FROM PUBLIC`,
    `GRANT CREATE ON SCHEMA public TO ${quoteIdent(role)}`,
    ...ALL_TABLES.map((t) => `ALTER TABLE ${quoteIdent(t)} OWNER TO ${quoteIdent(role)}`),
    // the role may not create schemas: an owner gives it the ledger's, once
    `CREATE SCHEMA atomic_etl AUTHORIZATION ${quoteIdent(role)}`,
  );
  const u = new URL(db.url);
  u.username = role;
  u.password = password;
  roleUrl = u.toString();
});

afterEach(async () => {
  // the role owns the tables: the database goes first (the fixture's own drop is then a no-op)
  await db.drop();
  await sql(adminUrl(), `DROP ROLE IF EXISTS ${quoteIdent(role)}`);
});

describe("staging fallback (no TEMP privilege)", () => {
  it("should load direct instead when the environment's fallback is direct", async () => {
    const etl = new AtomicEtl(
      ws.config({ r: { tables: STANDARD_TABLES, strategy: "staged-delete" } }, { environments: { local: { fallback: "direct" } } }),
    );

    const report = await etl.import({ release: "r", url: roleUrl, backup: false });

    expect(report.outcome).toBe("committed");
    // the report says what ran, not what was asked for
    expect(report.strategy).toBe("direct");
    expect((await snapshot(db.url)).players).toHaveLength(6);
    expect(await workTables(db.url)).toEqual([]);
  });

  it("should fail with STAGING_UNAVAILABLE and change nothing when the fallback is fail", async () => {
    const old = await snapshot(db.url);
    const etl = new AtomicEtl(
      ws.config({ r: { tables: STANDARD_TABLES, strategy: "staged-truncate" } }, { environments: { local: { fallback: "fail" } } }),
    );

    const f = await failure(etl.import({ release: "r", url: roleUrl, backup: false }));

    expect(f.error.code).toBe("STAGING_UNAVAILABLE");
    expect(f.error.step).toBe("clear");
    expect(f.error.meta.sqlstate).toBe("42501");
    expect(f.error.next).toContain("GRANT TEMPORARY");
    expect(f.error.data).toBe("rolled back; database unchanged");
    expect(await snapshot(db.url)).toEqual(old);
  });

  it("should never let scoped fall back to direct, which would replace the rows of other scopes", async () => {
    await sql(
      db.url,
      `CREATE TABLE notes (id int PRIMARY KEY, dataset text NOT NULL, body text)`,
      `INSERT INTO notes VALUES (1, 'eu', 'a'), (2, 'us', 'b')`,
      `ALTER TABLE notes OWNER TO ${quoteIdent(role)}`,
    );
    await ws.writeRelease("n", { "notes.json": [{ id: 3, dataset: "eu", body: "c" }] });
    const etl = new AtomicEtl(
      ws.config(
        { n: { tables: [{ table: "notes", file: "notes.json" }], strategy: "scoped", scope: { dataset: "eu" } } },
        { environments: { local: { fallback: "direct" } } },
      ),
    );

    const f = await failure(etl.import({ release: "n", url: roleUrl, backup: false }));

    expect(f.error.code).toBe("STAGING_UNAVAILABLE");
    expect(await sql(db.url, `SELECT id, dataset, body FROM notes ORDER BY id`)).toEqual([
      { id: 1, dataset: "eu", body: "a" },
      { id: 2, dataset: "us", body: "b" },
    ]);
  });
});
