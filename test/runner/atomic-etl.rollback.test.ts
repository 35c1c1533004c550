import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/config/schema.js";
import { AtomicEtl, type ImportOptions } from "../../src/atomic-etl.js";
import { clone, failure, nextRelease, type ReleaseFiles, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

type Rec = Record<string, unknown>;
type ReleaseInput = ConfigInput["releases"][string];

/** Runs a release that must fail; asserts the database is exactly as before (fingerprints and rows). */
async function failsUnchanged(files: ReleaseFiles, release: Partial<ReleaseInput> = {}, opts: Partial<ImportOptions> = {}) {
  await ws.writeRelease("r", files);
  const before = await stateOf(db.url);
  const etl = new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, ...release } }));
  const f = await failure(etl.import({ release: "r", url: db.url, backup: false, batchSize: 2, ...opts }));
  expect(await stateOf(db.url)).toEqual(before);
  expect(f.error.data).toBe("rolled back; database unchanged");
  expect(f.report.outcome).toBe("rolled back");
  expect(f.report.error).toMatchObject({ code: f.error.code });
  return f;
}

function edit(file: string, index: number, patch: Rec) {
  const files = clone(nextRelease());
  const rs = files[file] as Rec[];
  rs[index] = { ...rs[index], ...patch };
  return files;
}

describe("AtomicEtl.import (rollback on a bad record)", () => {
  it("should refuse a bad record in the middle of the last file with VALIDATION_FAILED and leave the database unchanged", async () => {
    const files = edit("player_match_stats.json", 4, { minutesPlayed: "ninety" });
    const loaded: string[] = [];
    const f = await failsUnchanged(files, {}, { hooks: { afterBatch: ({ table, batch }) => void loaded.push(`${table}#${batch}`) } });
    // every earlier table and the first batches of the last one were in the transaction
    expect(loaded).toEqual(expect.arrayContaining(["leagues#1", "players#3", "matches#2", "player_match_stats#1", "player_match_stats#2"]));
    expect(f.error).toMatchObject({
      code: "VALIDATION_FAILED",
      step: "load",
      table: "player_match_stats",
      file: "releases/r/player_match_stats.json",
      record: 4,
      field: "minutesPlayed",
    });
    expect(f.error.exitCode).toBe(4);
    expect(f.error.message).toContain("ninety");
  });

  it('should report "rolled back" (not restored) when a backup was taken but the rollback alone restored the data', async () => {
    await ws.writeRelease("r", edit("player_match_stats.json", 7, { rating: "12.345" }));
    const before = await stateOf(db.url);
    const f = await failure(
      new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({ release: "r", url: db.url, batchSize: 3 }),
    );
    expect(f.error).toMatchObject({ code: "VALIDATION_FAILED", record: 7, field: "rating" });
    expect(f.report.backup).not.toBeNull();
    expect(f.report.outcome).toBe("rolled back");
    expect(f.error.data).toBe("rolled back; database unchanged");
    expect(await stateOf(db.url)).toEqual(before);
    expect((await readdir(ws.backupDir)).some((n) => n.endsWith(".manifest.json"))).toBe(true);
  });

  it("should name the field of a NOT NULL column that is null", async () => {
    const f = await failsUnchanged(edit("players.json", 5, { fullName: null }));
    expect(f.error).toMatchObject({ code: "VALIDATION_FAILED", record: 5, field: "fullName", file: "releases/r/players.json" });
  });

  it("should refuse a value outside an enum", async () => {
    const f = await failsUnchanged(edit("matches.json", 2, { status: "ABANDONED" }));
    expect(f.error).toMatchObject({ code: "VALIDATION_FAILED", record: 2, field: "status" });
    expect(f.error.message).toContain("SCHEDULED");
  });

  it("should refuse a 17-digit int8 that exceeds bigint", async () => {
    const f = await failsUnchanged(edit("players.json", 1, { externalId: "99999999999999999999" }));
    expect(f.error).toMatchObject({ code: "VALIDATION_FAILED", record: 1, field: "externalId" });
  });

  it("should refuse a truncated last file with INPUT_MALFORMED after loading its first records", async () => {
    const text = JSON.stringify(nextRelease()["player_match_stats.json"]);
    const f = await failsUnchanged({ ...nextRelease(), "player_match_stats.json": text.slice(0, text.length - 30) });
    expect(f.error).toMatchObject({ code: "INPUT_MALFORMED", file: "releases/r/player_match_stats.json" });
  });
});

describe("AtomicEtl.import (rollback on a constraint)", () => {
  it("should name the record and field of a foreign-key orphan whose parent is in the release", async () => {
    const f = await failsUnchanged(edit("players.json", 3, { teamId: 999 }));
    expect(f.error).toMatchObject({
      code: "FK_VIOLATION",
      table: "players",
      file: "releases/r/players.json",
      record: 3,
      field: "teamId",
    });
    expect(f.error.meta).toMatchObject({ value: [999], constraint: "players_team_id_fkey" });
    expect(f.error.exitCode).toBe(5);
  });

  it("should report the first bad record in file order when a later batch is also invalid", async () => {
    // batch 1 (#0–#1) is refused by Postgres (a repeated primary key) while batch 2 (#2–#3) fails validation
    const files = edit("teams.json", 1, { id: 10 });
    (files["teams.json"] as Rec[])[2] = { ...(files["teams.json"] as Rec[])[2], name: null };
    const f = await failsUnchanged(files, {}, { batchSize: 2 });
    expect(f.error).toMatchObject({ code: "DUPLICATE_KEY", record: 1, field: "id" });
  });

  it("should name the orphan found when bulk mode re-validates the foreign keys after the load", async () => {
    // after TRUNCATE, FKs among the targets are dropped and re-added once: the orphan surfaces there
    const f = await failsUnchanged(edit("teams.json", 1, { leagueId: 99 }), {}, { batchSize: 2 });
    expect(f.error).toMatchObject({ code: "FK_VIOLATION", step: "apply", record: 1, field: "leagueId" });
    expect(f.error.meta).toMatchObject({ constraint: "teams_league_id_fkey" });
  });

  it("should name the orphan when the parent table is outside the release", async () => {
    // only stats are replaced; players and matches keep their seeded rows (700, 701; 7000)
    const files = {
      "player_match_stats.json": [
        { id: 1, playerId: 700, matchId: 7000, minutesPlayed: 90 },
        { id: 2, playerId: 701, matchId: 7000, minutesPlayed: 90 },
        { id: 3, playerId: 701, matchId: 7001, minutesPlayed: 90 },
      ],
    };
    const f = await failsUnchanged(files, { tables: [{ model: "PlayerMatchStat", file: "player_match_stats.json" }] });
    expect(f.error).toMatchObject({ code: "FK_VIOLATION", record: 2, field: "matchId" });
    expect(f.error.meta).toMatchObject({ value: [7001] });
  });

  it("should report a duplicate key inside one batch with both record indexes", async () => {
    const f = await failsUnchanged(edit("teams.json", 2, { id: 11 }), {}, { batchSize: 100 });
    expect(f.error).toMatchObject({ code: "DUPLICATE_KEY", table: "teams", file: "releases/r/teams.json", record: 2, field: "id" });
    expect(f.error.meta.duplicateOf).toBe(1);
  });

  it("should report a duplicate key across two batches with both record indexes", async () => {
    const f = await failsUnchanged(edit("teams.json", 3, { id: 10 }), {}, { batchSize: 2 });
    expect(f.error).toMatchObject({ code: "DUPLICATE_KEY", record: 3, field: "id" });
    expect(f.error.meta.duplicateOf).toBe(0);
  });

  it("should report a duplicate of a unique non-key column by its field name", async () => {
    const f = await failsUnchanged(edit("leagues.json", 1, { code: "EPL" }));
    expect(f.error).toMatchObject({ code: "DUPLICATE_KEY", table: "leagues", record: 1, field: "code" });
    expect(f.error.meta.duplicateOf).toBe(0);
  });

  it("should report a duplicate of a composite unique key with every field", async () => {
    const f = await failsUnchanged(edit("player_match_stats.json", 6, { playerId: 100, matchId: 1000 }), {}, { batchSize: 3 });
    expect(f.error).toMatchObject({ code: "DUPLICATE_KEY", record: 6, field: "playerId, matchId" });
    expect(f.error.meta.duplicateOf).toBe(0);
  });

  it("should not call rows that leave a unique key to its default duplicates of each other", async () => {
    // two rows take ids 52 and 53 from the serial (the seed left it at 51); a third gives 52 itself
    const stats = (nextRelease()["player_match_stats.json"] as Rec[]).slice(0, 3).map((s, i) => {
      const { id: _id, ...rest } = s;
      return i === 2 ? { ...rest, id: 52 } : rest;
    });
    const f = await failsUnchanged({ ...nextRelease(), "player_match_stats.json": stats }, {}, { batchSize: 10 });
    expect(f.error).toMatchObject({ code: "DUPLICATE_KEY", record: 0, field: "id" });
    expect(f.error.meta.duplicateOf).toBeUndefined();
    expect(f.error.message).toContain("column default");
  });
});

describe("AtomicEtl.import (rollback on a check or a hook)", () => {
  it("should fail a release whose SQL check returns rows with CHECK_FAILED", async () => {
    const files = edit("matches.json", 1, { awayTeamId: 11 });
    const f = await failsUnchanged(files, {
      checks: [{ name: "a team never plays itself", sql: "SELECT id FROM matches WHERE home_team_id = away_team_id" }],
    });
    expect(f.error).toMatchObject({ code: "CHECK_FAILED", step: "validate" });
    expect(f.error.meta).toMatchObject({ check: "a team never plays itself", rows: [{ id: 1001 }] });
    expect(f.error.exitCode).toBe(5);
  });

  it("should pass a release whose checks all pass, and list them in the report", async () => {
    await ws.writeRelease("r", nextRelease());
    const report = await new AtomicEtl(
      ws.config({
        r: {
          tables: STANDARD_TABLES,
          checks: [
            { name: "no self-match", sql: "SELECT id FROM matches WHERE home_team_id = away_team_id" },
            {
              name: "two leagues",
              run: async (tx) => (await tx.$queryRawUnsafe<{ n: bigint }[]>("SELECT count(*) AS n FROM leagues"))[0]?.n === 2n,
            },
          ],
        },
      }),
    ).import({ release: "r", url: db.url, backup: false });
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ["no self-match", true],
      ["two leagues", true],
    ]);
  });

  it("should fail a release whose function check returns a message with CHECK_FAILED", async () => {
    const f = await failsUnchanged(nextRelease(), {
      checks: [
        {
          name: "at least three leagues",
          run: async (tx) => {
            const [r] = await tx.$queryRawUnsafe<{ n: bigint }[]>("SELECT count(*) AS n FROM leagues");
            return (r?.n ?? 0n) >= 3n || `only ${r?.n} leagues`;
          },
        },
      ],
    });
    expect(f.error).toMatchObject({ code: "CHECK_FAILED", step: "validate" });
    expect(f.error.message).toContain("only 2 leagues");
  });

  it("should fail a release whose function check returns false or throws", async () => {
    let f = await failsUnchanged(nextRelease(), { checks: [{ name: "never", run: async () => false }] });
    expect(f.error).toMatchObject({ code: "CHECK_FAILED" });
    expect(f.error.meta).toMatchObject({ check: "never" });
    f = await failsUnchanged(nextRelease(), {
      checks: [
        {
          name: "explodes",
          run: async () => {
            throw new Error("boom in check");
          },
        },
      ],
    });
    expect(f.error).toMatchObject({ code: "CHECK_FAILED" });
    expect(f.error.message).toContain("boom in check");
  });

  it("should roll back when an error is thrown between batches", async () => {
    const f = await failsUnchanged(
      nextRelease(),
      {},
      {
        hooks: {
          afterBatch: ({ table, batch }) => {
            if (table === "players" && batch === 2) throw new Error("injected between batches");
          },
        },
      },
    );
    expect(f.error).toMatchObject({ code: "HOOK_FAILED", step: "load" });
    expect(f.error.message).toContain("injected between batches");
  });

  it("should roll back when an error is thrown right before COMMIT", async () => {
    const f = await failsUnchanged(
      nextRelease(),
      {},
      {
        hooks: {
          beforeCommit: () => {
            throw new Error("injected before commit");
          },
        },
      },
    );
    expect(f.error.message).toContain("injected before commit");
  });
});

describe("AtomicEtl.import (refused before anything is touched)", () => {
  it("should refuse a missing file with INPUT_MISSING and report it refused", async () => {
    const files: Record<string, unknown> = nextRelease();
    delete files["matches.json"];
    await ws.writeRelease("r", files as ReleaseFiles);
    const before = await stateOf(db.url);
    const f = await failure(
      new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({ release: "r", url: db.url, backup: false }),
    );
    expect(f.error).toMatchObject({ code: "INPUT_MISSING", step: "preflight", file: "releases/r/matches.json", data: "untouched" });
    expect(f.report.outcome).toBe("refused");
    expect(f.error.exitCode).toBe(3);
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should refuse an unknown release with UNKNOWN_RELEASE", async () => {
    const f = await failure(new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({ release: "nope", url: db.url }));
    expect(f.error).toMatchObject({ code: "UNKNOWN_RELEASE", step: "config", data: "untouched" });
  });
});
