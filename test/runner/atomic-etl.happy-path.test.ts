import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { clone, expectTableEquals, nextRelease, RawJson, snapshot, sql, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

/** The standard release with every fidelity edge case the column types have. */
function fidelityRelease() {
  const r = clone(nextRelease());
  const players = r["players.json"] as Record<string, unknown>[];
  Object.assign(players[0] as object, {
    marketValue: "123456789012.34",
    externalId: "9007199254740993",
    updatedAt: "2026-03-01T12:00:00.123+02:00",
    attributes: { foot: "left", caps: 12, clubs: ["Arsenal", "Chelsea"], scouting: { pace: 8.5, notes: null } },
  });
  Object.assign(players[1] as object, { marketValue: 7.25 });
  Object.assign(players[2] as object, { externalId: new RawJson("12345678901234567") });
  const matches = r["matches.json"] as Record<string, unknown>[];
  Object.assign(matches[0] as object, { localKickoff: "2026-02-01T15:00:00", kickoffAt: "2026-02-01T15:00:00.250Z" });
  const stats = r["player_match_stats.json"] as Record<string, unknown>[];
  stats.forEach((s, i) => {
    s.id = 1001 + i;
    // the last four rows rely on the column defaults
    if (i >= 4) {
      delete s.goals;
      delete s.assists;
      delete s.createdAt;
    }
  });
  return r;
}

describe("AtomicEtl.import (happy path)", () => {
  it("should replace every table with exactly the release's rows, keeping every value's fidelity", async () => {
    const files = fidelityRelease();
    await ws.writeRelease("fidelity", files);
    const etl = new AtomicEtl(ws.config({ fidelity: { tables: STANDARD_TABLES } }));

    const report = await etl.import({ release: "fidelity", url: db.url, backup: false });

    expect(report.outcome).toBe("committed");
    expect(report.error).toBeNull();
    expect(report.tables.map((t) => [t.table, t.rowsBefore, t.rowsLoaded, t.keyMode])).toEqual([
      ["leagues", 2, 2, "fields"],
      ["teams", 3, 4, "fields"],
      ["players", 2, 6, "fields"],
      ["matches", 1, 4, "fields"],
      ["player_match_stats", 2, 8, "fields"],
    ]);
    expect(report.rows).toBe(24);

    for (const [file, table] of [
      ["leagues.json", "leagues"],
      ["teams.json", "teams"],
      ["players.json", "players"],
      ["matches.json", "matches"],
    ] as const) {
      await expectTableEquals(db.url, table, files[file] as Record<string, unknown>[]);
    }
    await expectTableEquals(db.url, "player_match_stats", files["player_match_stats.json"] as Record<string, unknown>[], {
      goals: "0",
      assists: "0",
      created_at: expect.any(String),
    });
  });

  it("should store decimals, int8 beyond 2^53, timestamps, dates, json and enums exactly", async () => {
    const dir = await ws.writeRelease("fidelity", fidelityRelease());
    // the file really holds a bare 17-digit number, which JSON.parse alone would round
    const text = await readFile(path.join(dir, "players.json"), "utf8");
    expect(text).toMatch(/"externalId": 12345678901234567\n/);
    expect(text).toContain('"externalId": "9007199254740993",');
    await new AtomicEtl(ws.config({ fidelity: { tables: STANDARD_TABLES } })).import({ release: "fidelity", url: db.url, backup: false });

    const players = await sql(
      db.url,
      `SELECT id, market_value::text AS mv, external_id::text AS ext, position::text AS pos, birth_date::text AS birth,
              to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS updated, attributes
       FROM players WHERE id IN (100, 101, 110) ORDER BY id`,
    );
    expect(players).toEqual([
      {
        id: 100,
        mv: "123456789012.34",
        ext: "9007199254740993",
        pos: "GOALKEEPER",
        birth: "1999-04-01",
        updated: "2026-03-01 10:00:00.123",
        attributes: { foot: "left", caps: 12, clubs: ["Arsenal", "Chelsea"], scouting: { pace: 8.5, notes: null } },
      },
      { id: 101, mv: "7.25", ext: null, pos: "DEFENDER", birth: null, updated: "2026-01-02 10:00:00.000", attributes: null },
      { id: 110, mv: null, ext: "12345678901234567", pos: "MIDFIELDER", birth: null, updated: "2026-01-03 10:00:00.000", attributes: null },
    ]);

    const [m] = await sql(
      db.url,
      `SELECT local_kickoff::text AS local, to_char(kickoff_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS ko, status::text AS status FROM matches WHERE id = 1000`,
    );
    expect(m).toEqual({ local: "2026-02-01 15:00:00", ko: "2026-02-01 15:00:00.250", status: "FINISHED" });
    const [m2] = await sql(
      db.url,
      `SELECT to_char(kickoff_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS ko FROM matches WHERE id = 2000`,
    );
    expect(m2).toEqual({ ko: "2026-02-02 19:00" });

    // a nullable column: absent and explicit null both end as NULL
    const teams = await sql(db.url, `SELECT id, short_name, founded FROM teams WHERE id IN (20, 21) ORDER BY id`);
    expect(teams).toEqual([
      { id: 20, short_name: null, founded: 1890 },
      { id: 21, short_name: null, founded: null },
    ]);
  });

  it("should apply column defaults to absent defaulted columns and bump the serial past the loaded ids", async () => {
    await ws.writeRelease("fidelity", fidelityRelease());
    await new AtomicEtl(ws.config({ fidelity: { tables: STANDARD_TABLES } })).import({ release: "fidelity", url: db.url, backup: false });

    const stats = await sql<{ id: number; goals: number; assists: number; created: string | null }>(
      db.url,
      `SELECT id, goals, assists, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS created FROM player_match_stats ORDER BY id`,
    );
    expect(stats.slice(0, 4).map((s) => s.created)).toEqual(Array(4).fill("2026-02-01 17:00:00"));
    const defaulted = stats.slice(4);
    expect(defaulted.map((s) => [s.id, s.goals, s.assists])).toEqual([
      [1005, 0, 0],
      [1006, 0, 0],
      [1007, 0, 0],
      [1008, 0, 0],
    ]);
    // now() of the load: one value, the same for every defaulted row, never NULL
    expect(new Set(defaulted.map((s) => s.created)).size).toBe(1);
    expect(defaulted[0]?.created).not.toBeNull();

    const [next] = await sql<{ id: number }>(
      db.url,
      `INSERT INTO player_match_stats (player_id, match_id, minutes_played) VALUES (100, 2000, 1) RETURNING id`,
    );
    expect(next?.id).toBe(1009);
  });

  it("should let the serial number rows whose id is absent", async () => {
    const files = clone(nextRelease());
    for (const s of files["player_match_stats.json"] as Record<string, unknown>[]) delete s.id;
    await ws.writeRelease("noids", files);
    await new AtomicEtl(ws.config({ noids: { tables: STANDARD_TABLES } })).import({ release: "noids", url: db.url, backup: false });
    const ids = await sql<{ id: number }>(db.url, "SELECT id FROM player_match_stats ORDER BY id");
    expect(ids).toHaveLength(8);
    // the seed left the sequence at 51: new ids come after it, all distinct
    expect(ids.every((r) => r.id > 51)).toBe(true);
  });

  it("should be idempotent: importing the same release twice (--redeploy) gives the same rows", async () => {
    await ws.writeRelease("next", nextRelease());
    const etl = new AtomicEtl(ws.config({ next: { tables: STANDARD_TABLES } }));
    await etl.import({ release: "next", url: db.url, backup: false });
    const first = await snapshot(db.url);
    const again = await etl.import({ release: "next", url: db.url, backup: false, redeploy: true });
    expect(again.outcome).toBe("committed");
    expect(again.tables.map((t) => t.rowsBefore)).toEqual([2, 4, 6, 4, 8]);
    expect(await snapshot(db.url)).toEqual(first);
  });

  it("should take a backup before loading when the environment asks for one", async () => {
    await ws.writeRelease("fidelity", fidelityRelease());
    const report = await new AtomicEtl(ws.config({ fidelity: { tables: STANDARD_TABLES } })).import({ release: "fidelity", url: db.url });
    expect(report.outcome).toBe("committed");
    expect(report.backup).not.toBeNull();
    const files = await readdir(ws.backupDir);
    expect(files.some((f) => f.endsWith(".manifest.json"))).toBe(true);
  });
});

describe("AtomicEtl.import (batch sizes)", () => {
  const thousandLeagues = () =>
    Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, code: `L${i + 1}`, name: `League ${i + 1}`, country: "Testland", season: 2026 }));

  it("should use the environment's batch size: 1000 rows at 100 per batch is 10 batches", async () => {
    await ws.writeRelease("many", { "leagues.json": thousandLeagues() });
    await sql(db.url, "TRUNCATE leagues, teams, players, matches, player_match_stats");
    const config = ws.config(
      { many: { tables: [{ model: "League", file: "leagues.json" }] } },
      { environments: { local: { batchSize: 100 }, staging: { batchSize: 400 } } },
    );
    const etl = new AtomicEtl(config);

    const local = await etl.import({ release: "many", url: db.url, backup: false });
    expect(local.batchSize).toBe(100);
    expect(local.tables[0]?.batches).toBe(10);
    expect(local.tables[0]?.rowsLoaded).toBe(1000);

    const staging = await etl.import({ release: "many", url: db.url, env: "staging", backup: false });
    expect(staging.environment).toBe("staging");
    expect(staging.tables[0]?.batches).toBe(3);

    const overridden = await etl.import({ release: "many", url: db.url, backup: false, batchSize: 250, redeploy: true });
    expect(overridden.batchSize).toBe(250);
    expect(overridden.tables[0]?.batches).toBe(4);
    expect((await sql<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM leagues"))[0]?.n).toBe("1000");
  });

  it("should honour a table's own batch size over the environment's", async () => {
    await ws.writeRelease("many", { "leagues.json": thousandLeagues() });
    await sql(db.url, "TRUNCATE leagues, teams, players, matches, player_match_stats");
    const config = ws.config(
      { many: { tables: [{ model: "League", file: "leagues.json", batchSize: 300 }] } },
      { environments: { local: { batchSize: 100 } } },
    );
    const report = await new AtomicEtl(config).import({ release: "many", url: db.url, backup: false });
    expect(report.tables[0]?.batches).toBe(4);
  });
});
