import { cp } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sample } from "../../src/commands/sample.js";
import { ALL_TABLES, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";
import { freshDatabase } from "../support/postgres.js";
import {
  fingerprintsOf,
  importRelease,
  orphanCount,
  readManifest,
  readRows,
  rowsOf,
  runExport,
  runSample,
  sampleConfig,
  sql,
} from "./support.js";

describe("export and sample of the example schema, imported back", () => {
  const { db, ws } = useTestProject();

  it("should give the source's fingerprints when an export is imported into a fresh database", async () => {
    const config = sampleConfig(ws, { releases: { full: { tables: STANDARD_TABLES } } });
    const report = await runExport(config, db.url, "full");
    expect(report.rows).toBe(10);
    const target = await freshDatabase();
    try {
      await importRelease(config, target.url, "full");
      expect(await fingerprintsOf(target.url, ALL_TABLES)).toEqual(await fingerprintsOf(db.url, ALL_TABLES));
      // the digit-exact int8 beyond 2^53 survived the round trip
      expect(await rowsOf(target.url, "players")).toEqual(await rowsOf(db.url, "players"));
    } finally {
      await target.drop();
    }
    const m = await readManifest(report.dir);
    expect(m.kind).toBe("export");
    expect(m.source.database).toBe(db.name);
    expect(JSON.stringify(m)).not.toContain(new URL(db.url).password);
    expect(m.tables.map((t) => [t.table, t.file, t.rows])).toEqual([
      ["leagues", "leagues.json", 2],
      ["teams", "teams.json", 3],
      ["players", "players.json", 2],
      ["matches", "matches.json", 1],
      ["player_match_stats", "player_match_stats.json", 2],
    ]);
    expect(m.snapshot.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    // whole, unmasked tables: each FK checked by the server in the run's snapshot
    expect(m.closure.map((c) => [c.fk, c.checked, c.verifiedBy]).sort()).toEqual([
      ["matches_away_team_id_fkey", 1, "snapshot"],
      ["matches_home_team_id_fkey", 1, "snapshot"],
      ["matches_league_id_fkey", 1, "snapshot"],
      ["player_match_stats_match_id_fkey", 2, "snapshot"],
      ["player_match_stats_player_id_fkey", 2, "snapshot"],
      ["players_team_id_fkey", 2, "snapshot"],
      ["teams_league_id_fkey", 3, "snapshot"],
    ]);
    expect(m.tool.name).toBe("atomic-etl");
  });

  it("should import a sample the config does not list, from its release.json, with every FK on", async () => {
    const config = sampleConfig(ws, {
      samples: { laptop: { limits: { PlayerMatchStat: 1 } } },
    });
    const report = await runSample(config, db.url, { name: "laptop" });
    // stat 50 → player 700 → team 70 → league 7; match 7000 → teams 70, 71 → league 7
    expect(Object.fromEntries(report.manifest.tables.map((t) => [t.table, t.rows]))).toEqual({
      leagues: 1,
      teams: 2,
      players: 1,
      matches: 1,
      player_match_stats: 1,
    });
    expect(report.manifest.plan.mode).toBe("one-query");
    expect(report.manifest.closure.find((c) => c.fk === "matches_away_team_id_fkey")).toMatchObject({
      checked: 1,
      resolved: 1,
      verifiedBy: "files",
    });
    expect(path.basename(report.dir)).toBe("laptop");
    const target = await freshDatabase();
    try {
      const r = await importRelease(sampleConfig(ws), target.url, "laptop");
      expect(r.rows).toBe(6);
      expect(await orphanCount(target.url)).toBe(0);
      expect(await rowsOf(target.url, "player_match_stats")).toEqual(
        (await sql<{ r: string }>(db.url, "SELECT t::text AS r FROM player_match_stats t WHERE id = 50")).map((x) => x.r),
      );
    } finally {
      await target.drop();
    }
  });
});

describe("names and sources of a sample", () => {
  const { db, ws } = useTestProject();

  it("should empty the tables a sample reached no row of, in a target that has rows there (reseeding a laptop)", async () => {
    // one league, no child included: teams, players, matches and stats are written empty
    const config = sampleConfig(ws, { samples: { "league-only": { limits: { leagues: 1 } } } });
    const report = await runSample(config, db.url, { name: "league-only" });
    const empty = report.manifest.tables.filter((t) => t.rows === 0).map((t) => t.table);
    expect(empty.sort()).toEqual(["matches", "player_match_stats", "players", "teams"]);
    // the target is a copy of the source: every table has rows the import must remove
    const target = await freshDatabase();
    try {
      const full = sampleConfig(ws, { releases: { full: { tables: STANDARD_TABLES } } });
      await runExport(full, db.url, "full", { out: path.join(ws.root, "releases", "full-copy"), force: true });
      await importRelease(full, target.url, "full-copy");
      expect(Number((await sql<{ n: string }>(target.url, "SELECT count(*) AS n FROM players"))[0]?.n)).toBeGreaterThan(0);
      const r = await importRelease(sampleConfig(ws), target.url, "league-only");
      expect(r.rows).toBe(1);
      expect(await sql(target.url, "SELECT (SELECT count(*) FROM players)::int AS p, (SELECT count(*) FROM leagues)::int AS l")).toEqual([
        { p: 0, l: 1 },
      ]);
    } finally {
      await target.drop();
    }
  });

  it("should say how to import what it wrote: by name from its own folder, by copying it from anywhere else", async () => {
    const config = sampleConfig(ws, { samples: { laptop: { limits: { PlayerMatchStat: 1 } } } });
    expect((await runSample(config, db.url, { name: "laptop" })).next).toBe("atomic-etl import laptop --env <env>");
    const elsewhere = path.join(ws.root, "elsewhere", "laptop");
    const r = await runSample(config, db.url, { name: "laptop", out: elsewhere });
    const releases = path.join(ws.root, "releases");
    expect(r.next).toBe(
      `import laptop reads ${path.join(releases, "laptop")}, not this folder: copy it to ${path.join(releases, "<new-name>")}, then atomic-etl import <new-name> --env <env> (its release.json needs no config entry)`,
    );
    // following it literally works
    await cp(elsewhere, path.join(releases, "copied"), { recursive: true });
    const target = await freshDatabase();
    try {
      expect((await importRelease(sampleConfig(ws), target.url, "copied")).rows).toBe(6);
    } finally {
      await target.drop();
    }
  });

  it("should accept Prisma model, field and relation names in limits, where, include and masks", async () => {
    const config = sampleConfig(ws, {
      samples: {
        names: {
          limits: { Team: 1 },
          where: { Team: "short_name = 'OTN'" },
          include: { Team: ["players"] },
          masks: { "Player.fullName": { fixed: "Anonymous" } },
        },
      },
    });
    const report = await runSample(config, db.url, { name: "names" });
    const players = await readRows(path.join(report.dir, "players.ndjson"));
    expect(players.map((p) => [p.id, p.full_name])).toEqual([[700, "Anonymous"]]);
    expect(report.manifest.masks).toEqual([{ column: "players.full_name", rule: "fixed", inheritedFrom: null }]);
    expect(report.manifest.tables.find((t) => t.table === "players")).toMatchObject({ pulledBy: { "child via players_team_id_fkey": 1 } });
    const target = await freshDatabase();
    try {
      await importRelease(sampleConfig(ws), target.url, "names");
      expect(await orphanCount(target.url)).toBe(0);
    } finally {
      await target.drop();
    }
  });

  it("should read the source URL from --from-url-env's variable, or the environment's, and refuse when unset", async () => {
    const config = sampleConfig(ws, {
      databaseUrlEnv: { production: "PROD_TEST_URL" },
      samples: { env: { tables: ["leagues"], limits: { leagues: 1 } } },
    });
    const unset = await sample(config, { name: "env", from: "production" }).catch((e: unknown) => e);
    expect(unset).toMatchObject({ code: "DATABASE_URL_MISSING", exitCode: 2 });
    expect((unset as Error).message).toContain("PROD_TEST_URL");
    process.env.OTHER_TEST_URL = db.url;
    try {
      const r = await sample(config, { name: "env", from: "production", fromUrlEnv: "OTHER_TEST_URL" });
      expect(r.manifest.source).toMatchObject({ environment: "production", database: db.name });
    } finally {
      delete process.env.OTHER_TEST_URL;
    }
  });
});
