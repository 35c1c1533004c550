import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";

import { failure, nextRelease, snapshot, sql, STANDARD_TABLES, useTestProject, workTables } from "../strategies/fixtures.js";

const { db, ws } = useTestProject();

type Rec = Record<string, unknown>;

/** The standard release with one file's records changed. */
function releaseWith(file: string, change: (rows: Rec[]) => Rec[]): Record<string, Rec[]> {
  const r = nextRelease();
  r[file] = change(r[file] as Rec[]);
  return r;
}

describe("staged strategies: validation on staging, before the final phase", () => {
  for (const strategy of ["staged-truncate", "staged-delete", "swap"] as const) {
    it(`should refuse duplicate keys inside the release without touching the targets, with ${strategy}`, async () => {
      await ws.writeRelease(
        "r",
        releaseWith("players.json", (rows) => [...rows, { ...rows[0], externalId: "77" }]),
      );
      const old = await snapshot(db.url);

      const f = await failure(
        new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, strategy } })).import({ release: "r", url: db.url, backup: false }),
      );

      expect(f.error.code).toBe("DUPLICATE_KEY");
      expect(f.error.step).toBe("validate");
      expect(f.error.table).toBe("players");
      expect(f.error.field).toBe("id");
      expect(f.error).toMatchObject({ file: "releases/r/players.json", record: 6 });
      expect(f.error.message).toContain("releases/r/players.json: record #6 repeats id = 100 of record #0");
      expect(f.error.data).toBe("rolled back; database unchanged");
      expect(await snapshot(db.url)).toEqual(old);
      expect(await workTables(db.url)).toEqual([]);
    });
  }

  it("should check a child's FK against its parent's staged rows, not the parent's old rows", async () => {
    // player 700 exists today, but the release replaces players without it
    await ws.writeRelease(
      "r",
      releaseWith("player_match_stats.json", (rows) => [...rows, { id: 9, playerId: 700, matchId: 1000, minutesPlayed: 1 }]),
    );
    const old = await snapshot(db.url);

    const f = await failure(
      new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, strategy: "staged-delete" } })).import({
        release: "r",
        url: db.url,
        backup: false,
      }),
    );

    expect(f.error.code).toBe("FK_VIOLATION");
    expect(f.error.table).toBe("player_match_stats");
    expect(f.error.field).toBe("playerId");
    expect(f.error.record).toBe(8);
    expect(f.error.message).toContain("record #8 has playerId = 700, which is not in players (id) as the release leaves it");
    expect(await snapshot(db.url)).toEqual(old);
  });

  it("should check a child's FK against the real parent table when the parent is not in the release", async () => {
    const stats = [
      { id: 60, playerId: 700, matchId: 7000, minutesPlayed: 12 },
      { id: 61, playerId: 701, matchId: 7000, minutesPlayed: 34 },
    ];
    await ws.writeRelease("ok", { "player_match_stats.json": stats });
    await ws.writeRelease("bad", { "player_match_stats.json": [...stats, { id: 62, playerId: 701, matchId: 4242, minutesPlayed: 1 }] });
    const tables = [{ model: "PlayerMatchStat", file: "player_match_stats.json" }];
    const etl = new AtomicEtl(ws.config({ ok: { tables, strategy: "staged-delete" }, bad: { tables, strategy: "staged-delete" } }));

    const f = await failure(etl.import({ release: "bad", url: db.url, backup: false }));
    expect(f.error.code).toBe("FK_VIOLATION");
    expect(f.error.message).toContain(
      "releases/bad/player_match_stats.json: record #2 has matchId = 4242, which is not in matches (id) (player_match_stats_match_id_fkey)",
    );

    await etl.import({ release: "ok", url: db.url, backup: false });
    expect(await sql(db.url, `SELECT id, minutes_played FROM player_match_stats ORDER BY id`)).toEqual([
      { id: 60, minutes_played: 12 },
      { id: 61, minutes_played: 34 },
    ]);
  });

  it("should refuse staged-delete up front, naming the outside rows that still reference rows it deletes", async () => {
    // players and matches stay; the release replaces teams, which both reference
    await ws.writeRelease("r", { "teams.json": [{ id: 70, leagueId: 7, name: "New Town" }] });
    const old = await snapshot(db.url);
    const etl = new AtomicEtl(ws.config({ r: { tables: [{ model: "Team", file: "teams.json" }], strategy: "staged-delete" } }));

    const f = await failure(etl.import({ release: "r", url: db.url, backup: false }));

    expect(f.error.code).toBe("STRATEGY_REFUSED");
    expect(f.error.step).toBe("clear");
    expect(f.error.message).toContain(
      "matches.matches_away_team_id_fkey (ON DELETE RESTRICT) has rows that reference teams rows this run deletes, e.g. away_team_id = 71",
    );
    expect(f.error.meta.referencingTables).toEqual(expect.arrayContaining(["matches", "players"]));
    expect(f.error.next).toContain('mode: "merge"');
    expect(f.error.data).toBe("rolled back; database unchanged");
    expect(await snapshot(db.url)).toEqual(old);
  });

  it("should refuse staged-truncate up front when a table outside the release references a target", async () => {
    await ws.writeRelease("r", { "teams.json": [{ id: 70, leagueId: 7, name: "New Town" }] });
    const etl = new AtomicEtl(ws.config({ r: { tables: [{ model: "Team", file: "teams.json" }], strategy: "staged-truncate" } }));

    const f = await failure(etl.import({ release: "r", url: db.url, backup: false }));

    expect(f.error.code).toBe("STRATEGY_REFUSED");
    expect(f.error.step).toBe("clear");
    expect(f.error.message).toContain("players.players_team_id_fkey (ON DELETE RESTRICT) has rows that reference teams rows");
    expect(f.error.next).toContain("merge");
  });

  it("should point staged-truncate to staged-delete when outside tables reference the targets but no row does, and staged-delete then runs", async () => {
    await sql(db.url, "DELETE FROM player_match_stats", "DELETE FROM matches", "DELETE FROM players");
    await ws.writeRelease("r", { "teams.json": [{ id: 70, leagueId: 7, name: "New Town" }] });
    const config = (strategy: "staged-truncate" | "staged-delete") =>
      ws.config({ r: { tables: [{ model: "Team", file: "teams.json" }], strategy } });

    const f = await failure(new AtomicEtl(config("staged-truncate")).import({ release: "r", url: db.url, backup: false }));
    expect(f.error.code).toBe("STRATEGY_REFUSED");
    expect(f.error.message).toContain(
      "players.players_team_id_fkey (ON DELETE RESTRICT) references teams, and TRUNCATE cannot leave it out",
    );
    expect(f.error.next).toContain("use staged-delete");

    const report = await new AtomicEtl(config("staged-delete")).import({ release: "r", url: db.url, backup: false });
    expect(report.tables[0]?.applied).toMatchObject({ inserted: 1, deleted: 3 });
    expect(await sql(db.url, "SELECT id, name FROM teams")).toEqual([{ id: 70, name: "New Town" }]);
  });

  it("should let --strategy override the release's strategy and report it", async () => {
    await ws.writeRelease("r", nextRelease());
    const etl = new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, strategy: "direct" } }));

    const report = await etl.import({ release: "r", url: db.url, backup: false, strategy: "staged-delete" });

    expect(report.strategy).toBe("staged-delete");
    expect(report.tables.map((t) => t.applied)).toEqual(
      [2, 4, 6, 4, 8].map((n, i) => ({ inserted: n, updated: 0, unchanged: 0, deleted: [2, 3, 2, 1, 2][i], duplicatesInSource: 0 })),
    );
  });
});
