import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { quoteIdent } from "../../src/sql/quote.js";
import { adminUrl } from "../support/postgres.js";
import { ALL_TABLES, failure, snapshot, sql, STANDARD_TABLES, useTestProject } from "./fixtures.js";

const { db, ws } = useTestProject({ release: true });

describe("direct strategy", () => {
  it("should rebuild the secondary indexes and foreign keys it drops for the bulk load, with the same definitions", async () => {
    const definitions = async () =>
      sql<{ d: string }>(db.url, {
        text: `SELECT pg_get_indexdef(indexrelid) AS d FROM pg_index WHERE indrelid::regclass::text = ANY($1) UNION ALL
         SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid::regclass::text = ANY($1) ORDER BY 1`,
        values: [[...ALL_TABLES]],
      });
    const before = await definitions();
    const report = await new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({ release: "r", url: db.url, backup: false });
    expect(report.outcome).toBe("committed");
    expect(await definitions()).toEqual(before);
    // the rebuilt FK enforces again
    await expect(sql(db.url, "INSERT INTO teams (id, league_id, name) VALUES (999, 424242, 'x')")).rejects.toThrow(/foreign key/);
  });

  it("should load row by row when the role may TRUNCATE and write but does not own the tables", async () => {
    const role = `etl_dml_${randomBytes(4).toString("hex")}`;
    const password = randomBytes(12).toString("hex");
    await sql(adminUrl(), `CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${password}'`);
    try {
      await sql(
        db.url,
        `GRANT USAGE ON SCHEMA public TO ${quoteIdent(role)}`,
        ...ALL_TABLES.map((t) => `GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ${quoteIdent(t)} TO ${quoteIdent(role)}`),
        `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${quoteIdent(role)}`,
        // a role that may not create schemas gets the ledger's from an owner, once
        `CREATE SCHEMA atomic_etl AUTHORIZATION ${quoteIdent(role)}`,
      );
      const u = new URL(db.url);
      u.username = role;
      u.password = password;
      const report = await new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({
        release: "r",
        url: u.toString(),
        backup: false,
      });
      expect(report.outcome).toBe("committed");
      expect((await snapshot(db.url)).players).toHaveLength(6);
    } finally {
      await sql(db.url, `DROP OWNED BY ${quoteIdent(role)}`);
      await sql(adminUrl(), `DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    }
  });

  it("should refuse to clear targets with DELETE when a table outside the release would follow ON DELETE CASCADE", async () => {
    await sql(
      db.url,
      "CREATE TABLE fan_clubs (id int PRIMARY KEY, team_id int NOT NULL REFERENCES teams (id) ON DELETE CASCADE)",
      "INSERT INTO fan_clubs SELECT 1, id FROM teams ORDER BY id LIMIT 1",
    );
    const before = await snapshot(db.url);
    const f = await failure(
      new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({ release: "r", url: db.url, backup: false }),
    );
    expect(f.error).toMatchObject({ code: "STRATEGY_REFUSED", data: "rolled back; database unchanged" });
    expect(f.error.message).toContain("fan_clubs");
    expect(await snapshot(db.url)).toEqual(before);
    expect(await sql(db.url, "SELECT count(*)::int AS n FROM fan_clubs")).toEqual([{ n: 1 }]);
  });

  it("should refuse up front, naming the referencing rows and merge, when a table outside the release references rows it deletes", async () => {
    // the release replaces leagues and teams only; players and matches (outside) reference teams
    await ws.writeRelease("part", {
      "leagues.json": [{ id: 7, code: "OLD", name: "Old League", country: "Nowhere", season: 2025 }],
      "teams.json": [{ id: 70, leagueId: 7, name: "New Town" }],
    });
    const before = await snapshot(db.url);
    const config = ws.config({
      part: {
        tables: [
          { model: "League", file: "leagues.json" },
          { model: "Team", file: "teams.json" },
        ],
      },
    });
    const f = await failure(new AtomicEtl(config).import({ release: "part", url: db.url, backup: false }));
    expect(f.error).toMatchObject({ code: "STRATEGY_REFUSED", step: "clear", data: "rolled back; database unchanged" });
    expect(f.error.message).toContain(
      "players.players_team_id_fkey (ON DELETE RESTRICT) has rows that reference teams rows this run deletes, e.g. team_id = 70",
    );
    expect(f.error.next).toContain('mode: "merge"');
    expect(await snapshot(db.url)).toEqual(before);
  });

  it("should clear with DELETE (no bulk mode) when outside tables reference the targets but no row does, and count what it deleted", async () => {
    await sql(db.url, "DELETE FROM player_match_stats", "DELETE FROM matches", "DELETE FROM players");
    await ws.writeRelease("part", {
      "leagues.json": [{ id: 7, code: "NEW", name: "New League", country: "Here", season: 2026 }],
      "teams.json": [{ id: 70, leagueId: 7, name: "New Town" }],
    });
    const config = ws.config({
      part: {
        tables: [
          { model: "League", file: "leagues.json" },
          { model: "Team", file: "teams.json" },
        ],
      },
    });
    const report = await new AtomicEtl(config).import({ release: "part", url: db.url, backup: false });
    expect(report.tables.map((t) => [t.table, t.applied?.inserted, t.applied?.deleted])).toEqual([
      ["leagues", 1, 2],
      ["teams", 1, 3],
    ]);
    expect(await sql(db.url, "SELECT id, name FROM teams")).toEqual([{ id: 70, name: "New Town" }]);
  });
});
