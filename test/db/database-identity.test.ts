import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { resolveClientTool } from "../../src/backup/pg-tools.js";
import { PsqlSession } from "../../src/backup/psql-session.js";
import { formatIdentity, readDatabaseIdentity, sameDatabase } from "../../src/db/database-identity.js";
import { connect, pgTx } from "../../src/db/pg-client.js";
import { sql, useTestDatabase } from "../fixtures/core/kit.js";
import { adminUrl } from "../support/postgres.js";

const a = useTestDatabase({ migrate: false });
const b = useTestDatabase({ migrate: false });

async function identity(url: string) {
  const c = await connect(url);
  try {
    return await readDatabaseIdentity(pgTx(c));
  } finally {
    await c.end();
  }
}

describe("readDatabaseIdentity", () => {
  it("should tell two databases of one cluster apart by name and OID, with the cluster's system identifier", async () => {
    const [ia, ib] = [await identity(a.url), await identity(b.url)];
    const [row] = await sql<{ sys: string; oid: string }>(
      a.url,
      "SELECT (SELECT system_identifier::text FROM pg_control_system()) AS sys, oid::text FROM pg_database WHERE datname = current_database()",
    );

    expect(ia).toEqual({ systemIdentifier: row!.sys, database: a.name, oid: Number(row!.oid) });
    expect(ib.systemIdentifier).toBe(ia.systemIdentifier);
    expect(ib.oid).not.toBe(ia.oid);
    expect(sameDatabase(ia, await identity(a.url))).toBe(true);
    expect(sameDatabase(ia, ib)).toBe(false);
    expect(sameDatabase(ia, null)).toBe(false);
    expect(formatIdentity(ia)).toBe(`${a.name} (oid ${row!.oid}, system ${row!.sys})`);
  });

  it("should read the same identity through a psql session, and as a role without any privilege", async () => {
    const s = PsqlSession.open(await resolveClientTool("psql"), a.url);
    const viaPsql = await readDatabaseIdentity(s);
    await s.finish(null);
    expect(viaPsql).toEqual(await identity(a.url));

    const role = `plain_${randomBytes(4).toString("hex")}`;
    await sql(adminUrl(), `CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    try {
      const u = new URL(a.url);
      u.username = role;
      u.password = "pw";
      expect(await identity(u.toString())).toEqual(viaPsql);
    } finally {
      await sql(adminUrl(), `DROP ROLE ${role}`);
    }
  });
});
