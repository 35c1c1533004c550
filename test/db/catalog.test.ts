import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgTx } from "../../src/db/pg-client.js";
import { EtlError } from "../../src/errors.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { readCatalog } from "../../src/db/catalog.js";
import { failure, sql, stateOf, useTestProject } from "../fixtures/core/kit.js";

/** One database for the whole file: the tests share its state. */
const { db, ws } = useTestProject({ scope: "suite" });
let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client.end();
});

const HOSTILE = 'we"ird; DROP TABLE leagues; --';

describe("readCatalog", () => {
  it("should read columns with their types, lengths, precision, enums, defaults and sequences", async () => {
    const c = await readCatalog(pgTx(client), "public", ["players", "player_match_stats", "matches"]);
    const players = c.get("players");
    const col = (t: typeof players, n: string) => t?.columns.find((x) => x.name === n);
    expect(col(players, "full_name")).toMatchObject({ type: "varchar", maxLength: 120, nullable: false, hasDefault: false });
    expect(col(players, "market_value")).toMatchObject({ type: "numeric", numericPrecision: 14, numericScale: 2, nullable: true });
    expect(col(players, "external_id")).toMatchObject({ type: "int8", nullable: true });
    expect(col(players, "attributes")).toMatchObject({ type: "jsonb" });
    expect(col(players, "updated_at")).toMatchObject({ type: "timestamptz" });
    expect(col(players, "position")).toMatchObject({ typeKind: "e", enumValues: ["GOALKEEPER", "DEFENDER", "MIDFIELDER", "FORWARD"] });
    expect(col(c.get("matches"), "local_kickoff")).toMatchObject({ type: "timestamp" });
    const stats = c.get("player_match_stats");
    expect(col(stats, "id")).toMatchObject({ type: "int4", hasDefault: true, sequence: "public.player_match_stats_id_seq" });
    expect(col(stats, "goals")).toMatchObject({ type: "int2", hasDefault: true, sequence: null });
    expect(stats?.columns.map((x) => x.name)).toEqual([
      "id",
      "player_id",
      "match_id",
      "minutes_played",
      "goals",
      "assists",
      "rating",
      "distance_km",
      "created_at",
    ]);
  });

  it("should read primary keys, unique keys and foreign keys in both directions", async () => {
    const c = await readCatalog(pgTx(client), "public", ["teams", "player_match_stats"]);
    const stats = c.get("player_match_stats");
    expect(stats?.primaryKey).toEqual(["id"]);
    expect(stats?.uniqueKeys).toEqual([
      { name: "player_match_stats_pkey", columns: ["id"] },
      { name: "player_match_stats_player_id_match_id_key", columns: ["player_id", "match_id"] },
    ]);
    expect(stats?.foreignKeys.map((f) => [f.name, f.columns, f.references.name, f.referencedColumns, f.deferrable])).toEqual([
      ["player_match_stats_match_id_fkey", ["match_id"], "matches", ["id"], false],
      ["player_match_stats_player_id_fkey", ["player_id"], "players", ["id"], false],
    ]);
    const teams = c.get("teams");
    expect(teams?.foreignKeys.map((f) => f.references.name)).toEqual(["leagues"]);
    expect(teams?.referencedBy.map((f) => `${f.table.name}.${f.columns.join(",")}`).sort()).toEqual([
      "matches.away_team_id",
      "matches.home_team_id",
      "players.team_id",
    ]);
  });

  it("should refuse a table that does not exist with CATALOG_MISMATCH naming it", async () => {
    const e = await readCatalog(pgTx(client), "public", ["leagues", "nope"]).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(EtlError);
    expect(e).toMatchObject({ code: "CATALOG_MISMATCH", step: "preflight" });
    expect((e as EtlError).message).toContain("public.nope");
    expect((e as EtlError).message).not.toContain("public.leagues");
  });

  it("should treat a table name as data, never as SQL", async () => {
    const e = await readCatalog(pgTx(client), "public", ["leagues' OR '1'='1"]).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ code: "CATALOG_MISMATCH" });
  });
});

describe("AtomicEtl.import (hostile identifiers)", () => {
  it("should refuse a config table name that is an SQL injection attempt as CATALOG_MISMATCH, leaving leagues in place", async () => {
    await ws.writeRelease("evil", { "x.json": [{ id: 1 }] });
    const before = await stateOf(db.url);
    const etl = new AtomicEtl(ws.config({ evil: { tables: [{ table: 'x"; DROP TABLE leagues; --', file: "x.json" }] } }));
    const f = await failure(etl.import({ release: "evil", url: db.url, backup: false }));
    expect(f.error).toMatchObject({ code: "CATALOG_MISMATCH", data: "untouched" });
    expect(f.error.exitCode).toBe(6);
    expect(await sql(db.url, "SELECT to_regclass('public.leagues') IS NOT NULL AS present")).toEqual([{ present: true }]);
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should load a table whose table and column names are hostile, quoting every one", async () => {
    await sql(
      db.url,
      `CREATE TABLE "we""ird; DROP TABLE leagues; --" ("i""d" serial PRIMARY KEY, "na""me, x" text NOT NULL, "select" int DEFAULT 7)`,
      `INSERT INTO "we""ird; DROP TABLE leagues; --" ("na""me, x") VALUES ('old')`,
    );
    const rows = [
      { 'i"d': 10, 'na"me, x': "Robert'); DROP TABLE leagues; --", select: 1 },
      { 'i"d': 11, 'na"me, x': 'quote " and \\ backslash' },
    ];
    await ws.writeRelease("hostile", { "w.json": rows });
    const before = await stateOf(db.url);
    const report = await new AtomicEtl(ws.config({ hostile: { tables: [{ table: HOSTILE, file: "w.json" }] } })).import({
      release: "hostile",
      url: db.url,
      backup: false,
      batchSize: 1,
    });
    expect(report).toMatchObject({ outcome: "committed", rows: 2 });
    expect(
      await sql(db.url, `SELECT "i""d" AS id, "na""me, x" AS name, "select" AS s FROM "we""ird; DROP TABLE leagues; --" ORDER BY 1`),
    ).toEqual([
      { id: 10, name: "Robert'); DROP TABLE leagues; --", s: 1 },
      { id: 11, name: 'quote " and \\ backslash', s: 7 },
    ]);
    // the serial was bumped past the loaded ids
    expect(await sql(db.url, `INSERT INTO "we""ird; DROP TABLE leagues; --" ("na""me, x") VALUES ('new') RETURNING "i""d" AS id`)).toEqual([
      { id: 12 },
    ]);
    expect(await stateOf(db.url)).toEqual(before);
  });
});
