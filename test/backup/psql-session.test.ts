import { beforeEach, describe, expect, it } from "vitest";
import { resolveClientTool } from "../../src/backup/pg-tools.js";
import { parseCsvRows, PsqlSession } from "../../src/backup/psql-session.js";
import { fingerprintTable } from "../../src/db/fingerprint.js";
import { sql, useTestDatabase } from "../fixtures/core/kit.js";

describe("parseCsvRows", () => {
  it("should read psql's CSV: header, quoted fields, doubled quotes, newlines, NULL as an empty field", () => {
    expect(parseCsvRows('a,b,c\n1,"x, ""y""\nz",\n2,"",w\n')).toEqual([
      { a: "1", b: 'x, "y"\nz', c: null },
      { a: "2", b: "", c: "w" },
    ]);
    expect(parseCsvRows("")).toEqual([]);
  });
});

describe("PsqlSession", () => {
  const db = useTestDatabase({ seed: false });
  beforeEach(() => sql(db.url, "INSERT INTO leagues (id, code, name, country, season) VALUES (1, 'A', 'A', 'X', 2026)"));

  it("should answer queries inside its transaction, with the same fingerprint as any connection", async () => {
    const s = PsqlSession.open(await resolveClientTool("psql"), db.url);
    s.write("BEGIN;");
    s.write("INSERT INTO leagues (id, code, name, country, season) VALUES (2, 'B', 'B', 'Y', 2026);");
    const inside = await fingerprintTable(s, { schema: "public", name: "leagues" });
    expect(inside.rows).toBe(2);
    expect((await s.finish("COMMIT")).exitCode).toBe(0);
    const [row] = await sql<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM leagues");
    expect(row?.n).toBe("2");
  });

  it("should roll back when the session ends without COMMIT, and fail pending queries when psql stops on an error", async () => {
    const s = PsqlSession.open(await resolveClientTool("psql"), db.url);
    s.write("BEGIN;");
    s.write("DELETE FROM leagues;");
    s.write("SELECT 1/0;");
    await expect(s.$queryRawUnsafe("SELECT 1 AS one")).rejects.toThrow(/division by zero/);
    expect((await s.finish(null)).exitCode).not.toBe(0);
    const [row] = await sql<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM leagues");
    expect(row?.n).toBe("1");
  });
});
