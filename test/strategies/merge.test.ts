import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { ConfigInput } from "../../src/config/schema.js";
import { ConfigError } from "../../src/errors.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { failure, fingerprints, prismaClient, snapshot, sql, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

type Rec = Record<string, unknown>;
type TableEntry = NonNullable<ConfigInput["releases"][string]["tables"]>[number];

const day = (d: number) => new Date(Date.UTC(2026, 0, d, 10)).toISOString();
const player = (id: number, version: number, teamId = 70): Rec => ({
  id,
  teamId,
  fullName: `p${id} v${version}`,
  position: "FORWARD",
  updatedAt: day(version + 1),
});
const PLAYERS: TableEntry = { model: "Player", file: "players.json", mode: "merge", merge: { key: "id", order: "updatedAt desc" } };

/** Writes release `r` and runs it (no backup: the tests prove rollback by fingerprint; --redeploy: a re-run of the same release really runs). */
async function run(
  files: Record<string, Rec[]>,
  tables: TableEntry[] = [PLAYERS],
  extra: Partial<ConfigInput["releases"][string]> = {},
  hooks = {},
) {
  await ws.writeRelease("r", files);
  return new AtomicEtl(ws.config({ r: { tables, ...extra } })).import({
    release: "r",
    url: db.url,
    backup: false,
    batchSize: 7,
    redeploy: true,
    hooks,
  });
}

/** Each row's version: a row rewritten or locked gets a new xmin or xmax. */
const rowVersions = (table: string) =>
  sql<{ id: number; v: string }>(db.url, `SELECT id, xmin::text || '/' || xmax::text AS v FROM ${table} ORDER BY id`);

/** 36 keys, 100 records (2 or 3 versions per key, shuffled): 64% of the records are duplicates. */
function duplicatedPlayers(): { records: Rec[]; newest: Map<number, number> } {
  const keyed: [number, Rec][] = [];
  const newest = new Map<number, number>();
  for (let k = 0; k < 36; k++) {
    const versions = k < 28 ? 3 : 2;
    for (let v = 0; v < versions; v++) keyed.push([((k + 1) * 7919 + v * 104729) % 1009, player(1000 + k, v)]);
    newest.set(1000 + k, versions - 1);
  }
  return { records: keyed.sort((a, b) => a[0] - b[0]).map(([, r]) => r), newest };
}

describe("merge", () => {
  it("should keep exactly the newest row per key when 64% of the records are duplicates, and report the duplicates and their rate", async () => {
    const { records, newest } = duplicatedPlayers();
    const report = await run({ "players.json": records });

    const rows = await sql<{ id: number; full_name: string }>(db.url, "SELECT id, full_name FROM players WHERE id >= 1000 ORDER BY id");
    expect(rows).toEqual([...newest].map(([id, v]) => ({ id, full_name: `p${id} v${v}` })));
    expect(report.tables[0]?.records).toBe(100);
    expect(report.tables[0]?.applied).toEqual({
      inserted: 36,
      updated: 0,
      unchanged: 0,
      deleted: 0,
      duplicatesInSource: 64,
      duplicateRate: 0.64,
    });
    expect((await sql(db.url, "SELECT id FROM players WHERE id < 1000")).length).toBe(2);
  });

  it("should write nothing on a re-run of the same release: zero inserted and updated, same fingerprint, same row versions", async () => {
    const { records } = duplicatedPlayers();
    await run({ "players.json": records });
    const [fp, versions] = [await fingerprints(db.url), await rowVersions("players")];

    const again = await run({ "players.json": records });

    expect(again.tables[0]?.applied).toEqual({
      inserted: 0,
      updated: 0,
      unchanged: 36,
      deleted: 0,
      duplicatesInSource: 64,
      duplicateRate: 0.64,
    });
    expect(await fingerprints(db.url)).toEqual(fp);
    expect(await rowVersions("players")).toEqual(versions);
  });

  it("should count inserted, updated and unchanged rows exactly for a release that changes a subset", async () => {
    const base = Array.from({ length: 20 }, (_, i) => player(1000 + i, 1));
    await run({ "players.json": base });
    const versions = await rowVersions("players");

    const changed = [1003, 1007, 1011, 1019];
    const next = [
      ...base.map((r) => (changed.includes(Number(r.id)) ? player(Number(r.id), 2) : r)),
      player(2000, 1),
      player(2001, 1),
      player(2002, 1),
      player(1003, 0), // an older version of a changed key: a duplicate, and not the winner
    ];
    const report = await run({ "players.json": next });

    expect(report.tables[0]?.applied).toEqual({
      inserted: 3,
      updated: 4,
      unchanged: 16,
      deleted: 0,
      duplicatesInSource: 1,
      duplicateRate: 0.0417,
    });
    const names = await sql<{ id: number; full_name: string }>(
      db.url,
      "SELECT id, full_name FROM players WHERE id IN (1003, 1004, 2001) ORDER BY id",
    );
    expect(names).toEqual([
      { id: 1003, full_name: "p1003 v2" },
      { id: 1004, full_name: "p1004 v1" },
      { id: 2001, full_name: "p2001 v1" },
    ]);
    const untouched = (await rowVersions("players")).filter((r) => r.id < 2000 && !changed.includes(r.id));
    expect(untouched).toEqual(versions.filter((r) => !changed.includes(r.id)));
  });

  it("should not let an older record overwrite a newer stored row when onlyIfNewer is set", async () => {
    await run({ "players.json": [player(1000, 5), player(1001, 5)] });
    const tables: TableEntry[] = [{ ...PLAYERS, merge: { key: "id", order: "updatedAt desc", onlyIfNewer: true } }];

    const report = await run({ "players.json": [player(1000, 3), player(1001, 6)] }, tables);

    expect(report.tables[0]?.applied).toMatchObject({ inserted: 0, updated: 1, unchanged: 1 });
    const rows = await sql<{ id: number; full_name: string }>(db.url, "SELECT id, full_name FROM players WHERE id >= 1000 ORDER BY id");
    expect(rows).toEqual([
      { id: 1000, full_name: "p1000 v5" },
      { id: 1001, full_name: "p1001 v6" },
    ]);
  });

  it("should delete missing rows only inside the deleteMissing scope and leave rows outside it untouched", async () => {
    await sql(
      db.url,
      "DELETE FROM player_match_stats",
      "INSERT INTO players (id, team_id, full_name, position, updated_at) VALUES (702, 70, 'Team 70 b', 'DEFENDER', '2025-01-01'), (703, 71, 'Team 71 b', 'DEFENDER', '2025-01-01')",
    );
    const outside = (await rowVersions("players")).filter((r) => r.id === 701 || r.id === 703);
    const tables: TableEntry[] = [{ ...PLAYERS, merge: { key: "id", deleteMissing: { scope: { teamId: 70 } } } }];

    const report = await run({ "players.json": [player(702, 1), player(704, 1)] }, tables);

    expect(report.tables[0]?.applied).toMatchObject({ inserted: 1, updated: 1, unchanged: 0, deleted: 1 });
    expect((await sql<{ id: number }>(db.url, "SELECT id FROM players ORDER BY id")).map((r) => r.id)).toEqual([701, 702, 703, 704]);
    expect((await rowVersions("players")).filter((r) => r.id === 701 || r.id === 703)).toEqual(outside);
  });

  it("should fail on records tied on key and order that differ, naming the key, and change nothing", async () => {
    const before = await fingerprints(db.url);
    const tied = { ...player(1000, 1), fullName: "someone else" };

    const f = await failure(run({ "players.json": [player(1001, 1), player(1000, 1), tied, player(1000, 0)] }));

    expect(f.error.code).toBe("DUPLICATE_KEY");
    expect(f.error).toMatchObject({ record: 2, field: "id, updatedAt" });
    expect(f.error.meta.duplicateOf).toBe(1);
    expect(f.error.message).toContain("record #2 has the same id, updatedAt = [1000,");
    expect(f.error.data).toBe("rolled back; database unchanged");
    expect(await fingerprints(db.url)).toEqual(before);
  });

  it("should take identical records sent twice as one row, and refuse different records for one key when there is no order", async () => {
    const tables: TableEntry[] = [{ ...PLAYERS, merge: {} }];
    const report = await run({ "players.json": [player(1000, 1), player(1000, 1)] }, tables);
    expect(report.tables[0]?.applied).toMatchObject({ inserted: 1, duplicatesInSource: 1 });

    const f = await failure(run({ "players.json": [player(1000, 1), player(1000, 2)] }, tables));
    expect(f.error.code).toBe("DUPLICATE_KEY");
    expect(f.error.next).toContain("merge.order");
  });

  it.each([
    ["a beforeCommit hook throws", {}, { beforeCommit: () => Promise.reject(new Error("injected")) }, "HOOK_FAILED"],
    ["a user check fails", { checks: [{ name: "no new players", sql: "SELECT id FROM players WHERE id >= 1000" }] }, {}, "CHECK_FAILED"],
  ])("should roll everything back to the before-state when %s after the merge was applied", async (_what, extra, hooks, code) => {
    await sql(db.url, "DELETE FROM player_match_stats");
    await run({ "players.json": [player(1000, 1), player(1001, 1)] });
    const before = await fingerprints(db.url);
    const rows = await snapshot(db.url);
    const tables: TableEntry[] = [{ ...PLAYERS, merge: { key: "id", order: "updatedAt desc", deleteMissing: { scope: { teamId: 70 } } } }];

    const f = await failure(run({ "players.json": [player(1000, 2), player(1002, 1)] }, tables, extra, hooks));

    expect(f.error.code).toBe(code);
    expect(f.error.data).toBe("rolled back; database unchanged");
    expect(await fingerprints(db.url)).toEqual(before);
    expect(await snapshot(db.url)).toEqual(rows);
  });

  it("should merge parents before children, and refuse deleteMissing of parent rows still referenced, naming the referencing rows", async () => {
    const teams: TableEntry = { model: "Team", file: "teams.json", mode: "merge", merge: { deleteMissing: true } };
    const files = {
      "teams.json": [
        { id: 70, leagueId: 7, name: "Old Town", shortName: "OTN", founded: 1901 },
        { id: 90, leagueId: 7, name: "New Team" },
      ],
      "players.json": [player(900, 1, 90)],
    };
    const before = await fingerprints(db.url);

    const f = await failure(run(files, [teams, { ...PLAYERS, merge: { key: "id" } }]));

    expect(f.error.code).toBe("FK_VIOLATION");
    expect(f.error.message).toContain("players(id=701, team_id=71) through players_team_id_fkey (ON DELETE RESTRICT)");
    expect(f.error.message).toContain("matches(id=7000, away_team_id=71) through matches_away_team_id_fkey");
    expect(await fingerprints(db.url)).toEqual(before);

    const report = await run({ ...files, "teams.json": [...(files["teams.json"] as Rec[]), { id: 71, leagueId: 7, name: "Old City" }] }, [
      teams,
      { ...PLAYERS, merge: { key: "id" } },
    ]);
    expect(report.tables.map((t) => [t.table, t.applied?.inserted, t.applied?.deleted])).toEqual([
      ["teams", 1, 1],
      ["players", 1, 0],
    ]);
    expect((await sql<{ id: number }>(db.url, "SELECT id FROM teams ORDER BY id")).map((r) => r.id)).toEqual([70, 71, 90]);
  });

  it("should let deleteMissing cascade through an FK declared ON DELETE CASCADE", async () => {
    await sql(
      db.url,
      "ALTER TABLE player_match_stats DROP CONSTRAINT player_match_stats_player_id_fkey",
      "ALTER TABLE player_match_stats ADD CONSTRAINT player_match_stats_player_id_fkey FOREIGN KEY (player_id) REFERENCES players (id) ON DELETE CASCADE",
    );
    const tables: TableEntry[] = [{ ...PLAYERS, merge: { deleteMissing: { scope: { teamId: 70 } } } }];

    const report = await run({ "players.json": [player(1000, 1)] }, tables);

    expect(report.tables[0]?.applied).toMatchObject({ inserted: 1, deleted: 1 });
    expect(await sql(db.url, "SELECT id FROM player_match_stats ORDER BY id")).toEqual([{ id: 51 }]);
  });

  it("should merge by a unique key whose records omit the serial id and defaulted columns, keep stored ids, and stay idempotent", async () => {
    const stats: TableEntry = {
      model: "PlayerMatchStat",
      file: "player_match_stats.json",
      mode: "merge",
      merge: { key: ["playerId", "matchId"] },
    };
    const files = {
      "player_match_stats.json": [
        { playerId: 700, matchId: 7000, minutesPlayed: 80, goals: 0, assists: 0 },
        { playerId: 701, matchId: 7000, minutesPlayed: 45, goals: 3, assists: 0, rating: "9.90" },
        { playerId: 700, matchId: 7000, minutesPlayed: 80, goals: 0, assists: 0 },
      ],
    };
    await sql(
      db.url,
      "INSERT INTO matches (id, league_id, home_team_id, away_team_id, kickoff_at, status) VALUES (7001, 7, 71, 70, '2025-06-01', 'SCHEDULED')",
    );
    files["player_match_stats.json"].push({ playerId: 701, matchId: 7001, minutesPlayed: 10, goals: 0, assists: 0 });

    const first = await run(files, [stats]);

    expect(first.tables[0]?.applied).toMatchObject({ inserted: 1, updated: 1, unchanged: 1, duplicatesInSource: 1 });
    const rows = await sql<{ id: number; minutes_played: number; created: string }>(
      db.url,
      "SELECT id, minutes_played, created_at::text AS created FROM player_match_stats ORDER BY id",
    );
    expect(rows.slice(0, 2)).toEqual([
      { id: 50, minutes_played: 80, created: "2025-05-01 15:00:00+00" },
      { id: 51, minutes_played: 45, created: "2025-05-01 15:00:00+00" },
    ]);
    expect(rows[2]?.id).toBe(52);
    const fp = await fingerprints(db.url);

    const second = await run(files, [stats]);
    expect(second.tables[0]?.applied).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 });
    expect(await fingerprints(db.url)).toEqual(fp);
  });

  it("should match NULL key parts only with nullsEqual and a NULLS NOT DISTINCT index, and refuse NULL keys otherwise", async () => {
    await sql(
      db.url,
      "CREATE TABLE tags (scope text, name text, hits int NOT NULL, CONSTRAINT tags_key UNIQUE NULLS NOT DISTINCT (scope, name))",
    );
    const tags = (merge: Rec): TableEntry[] => [
      { table: "tags", file: "tags.json", mode: "merge", merge: { key: ["scope", "name"], ...merge } },
    ];
    await run({ "tags.json": [{ scope: null, name: "a", hits: 1 }] }, tags({ nullsEqual: true }));

    const report = await run({ "tags.json": [{ scope: null, name: "a", hits: 2 }] }, tags({ nullsEqual: true }));
    expect(report.tables[0]?.applied).toMatchObject({ inserted: 0, updated: 1 });
    expect(await sql(db.url, "SELECT scope, name, hits FROM tags")).toEqual([{ scope: null, name: "a", hits: 2 }]);

    const refused = await failure(
      run(
        {
          "tags.json": [
            { scope: "s", name: "a", hits: 3 },
            { scope: null, name: "a", hits: 3 },
          ],
        },
        tags({}),
      ),
    );
    expect(refused.error).toMatchObject({ code: "VALIDATION_FAILED", record: 1, field: "scope", meta: { recordsWithoutKey: 1 } });
    expect(refused.error.file).toMatch(/tags\.json$/);
    expect(refused.error.message).toContain("tags.json: record #1 has no value in key scope");
    expect(refused.error.message).toContain("scope, name");

    await sql(db.url, "ALTER TABLE tags DROP CONSTRAINT tags_key", "ALTER TABLE tags ADD CONSTRAINT tags_key UNIQUE (scope, name)");
    const noIndex = await failure(run({ "tags.json": [{ scope: null, name: "a", hits: 3 }] }, tags({ nullsEqual: true })));
    expect(noIndex.error.code).toBe("CONFIG_INVALID");
    expect(noIndex.error.message).toContain("NULLS NOT DISTINCT");
  });

  it.each([
    [{ key: "nickname" }, 'unknown name "nickname"'],
    [{ key: "fullName" }, "no unique index on (full_name)"],
    [{ order: "updatedAt desc", update: ["id"] }, "id is part of the key"],
  ])("should refuse merge options %j before anything is written", async (merge, message) => {
    const before = await fingerprints(db.url);
    const f = await failure(run({ "players.json": [player(1000, 1)] }, [{ ...PLAYERS, merge }]));
    expect(f.error.code).toBe("CONFIG_INVALID");
    expect(f.error.message).toContain(message);
    expect(await fingerprints(db.url)).toEqual(before);
  });

  it("should keep merge tables merging when --strategy names a replace strategy", async () => {
    await ws.writeRelease("r", { "players.json": [player(1000, 1)] });
    const report = await new AtomicEtl(ws.config({ r: { tables: [PLAYERS] } })).import({
      release: "r",
      url: db.url,
      backup: false,
      strategy: "staged-delete",
    });
    expect(report.strategy).toBe("merge");
    expect((await sql<{ id: number }>(db.url, "SELECT id FROM players ORDER BY id")).map((r) => r.id)).toEqual([700, 701, 1000]);
  });
});

describe("merge config", () => {
  const parse = (table: Rec, release: Rec = {}) =>
    parseConfig({ client: prismaClient, releases: { r: { tables: [{ model: "Player", file: "p.json", ...table }], ...release } } }, "/");

  it('should read mode: "merge" as the merge strategy', () => {
    expect(parse({ mode: "merge" }).releases.r?.tables[0]?.strategy).toBe("merge");
  });

  it.each([
    [{ mode: "merge", strategy: "swap" }, {}, "mode"],
    [{ merge: { key: "id" } }, {}, "merge options need mode"],
    [{ mode: "merge", merge: { onlyIfNewer: true } }, {}, "onlyIfNewer needs `order`"],
    [{ mode: "replace" }, { strategy: "merge" }, 'mode: "replace" needs a replace strategy'],
    [{ mode: "merge", merge: { order: "updatedAt newest" } }, {}, "asc|desc"],
  ])("should refuse %j (release %j)", (table, release, message) => {
    expect(() => parse(table, release)).toThrow(ConfigError);
    expect(() => parse(table, release)).toThrow(message);
  });
});
