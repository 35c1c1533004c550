import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { clone, expectTableEquals, failure, nextRelease, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

type Rec = Record<string, unknown>;
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const toColumns = (records: Rec[]) => records.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [snake(k), v])));

/** The standard release with every file keyed by column names. */
function columnRelease() {
  return Object.fromEntries(Object.entries(nextRelease()).map(([f, rs]) => [f, toColumns(rs)]));
}

describe("AtomicEtl.import (record keys)", () => {
  it("should detect column-name keys and load them like field-name keys", async () => {
    const files = columnRelease();
    await ws.writeRelease("cols", files);
    const report = await new AtomicEtl(ws.config({ cols: { tables: STANDARD_TABLES } })).import({
      release: "cols",
      url: db.url,
      backup: false,
    });
    // leagues' field names equal their column names: reported as fields
    expect(report.tables.map((t) => t.keyMode)).toEqual(["fields", "columns", "columns", "columns", "columns"]);
    const orig = nextRelease();
    for (const [file, table] of [
      ["teams.json", "teams"],
      ["players.json", "players"],
      ["matches.json", "matches"],
      ["player_match_stats.json", "player_match_stats"],
    ] as const) {
      await expectTableEquals(db.url, table, orig[file] as Rec[], { goals: "0", assists: "0" });
    }
  });

  it("should detect keys per file, so one release may mix field-keyed and column-keyed files", async () => {
    const files = { ...nextRelease(), "teams.json": toColumns(nextRelease()["teams.json"] as Rec[]) };
    await ws.writeRelease("mixed", files);
    const report = await new AtomicEtl(ws.config({ mixed: { tables: STANDARD_TABLES } })).import({
      release: "mixed",
      url: db.url,
      backup: false,
    });
    expect(report.tables.map((t) => t.keyMode)).toEqual(["fields", "columns", "fields", "fields", "fields"]);
    await expectTableEquals(db.url, "teams", nextRelease()["teams.json"] as Rec[]);
  });

  it("should refuse a key that is neither a field nor a column with UNKNOWN_KEY naming file, record and field", async () => {
    const files = clone(nextRelease());
    (files["players.json"] as Rec[])[3] = { ...(files["players.json"] as Rec[])[3], nickName: "Di" };
    await ws.writeRelease("bad", files);
    const before = await stateOf(db.url);

    const f = await failure(
      new AtomicEtl(ws.config({ bad: { tables: STANDARD_TABLES } })).import({ release: "bad", url: db.url, backup: false }),
    );

    expect(f.error.code).toBe("UNKNOWN_KEY");
    expect(f.error.file).toBe("releases/bad/players.json");
    expect(f.error.record).toBe(3);
    expect(f.error.field).toBe("nickName");
    expect(f.error.table).toBe("players");
    expect(f.error.message).toContain("nickName");
    expect(f.error.data).toBe("rolled back; database unchanged");
    expect(f.report.outcome).toBe("rolled back");
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should refuse an unknown key in the first record, where the key naming is detected", async () => {
    const files = clone(nextRelease());
    (files["teams.json"] as Rec[])[0] = { ...(files["teams.json"] as Rec[])[0], stadium: "Emirates" };
    await ws.writeRelease("bad", files);
    const f = await failure(
      new AtomicEtl(ws.config({ bad: { tables: STANDARD_TABLES } })).import({ release: "bad", url: db.url, backup: false }),
    );
    expect(f.error).toMatchObject({ code: "UNKNOWN_KEY", file: "releases/bad/teams.json", record: 0, field: "stadium" });
  });

  it('should ignore unknown keys, wherever they are, when the table says unknownKeys: "ignore"', async () => {
    const files = clone(nextRelease());
    const teams = files["teams.json"] as Rec[];
    teams[0] = { ...teams[0], stadium: "Emirates" };
    teams[2] = { ...teams[2], comment: "promoted" };
    await ws.writeRelease("extra", files);
    const tables = STANDARD_TABLES.map((t) => (t.model === "Team" ? { ...t, unknownKeys: "ignore" as const } : t));
    const report = await new AtomicEtl(ws.config({ extra: { tables } })).import({ release: "extra", url: db.url, backup: false });
    expect(report.outcome).toBe("committed");
    await expectTableEquals(db.url, "teams", nextRelease()["teams.json"] as Rec[]);
  });

  it('should read column names when the config says keys: "columns"', async () => {
    await ws.writeRelease("cols", columnRelease());
    const tables = STANDARD_TABLES.map((t) => ({ ...t, keys: "columns" as const }));
    const report = await new AtomicEtl(ws.config({ cols: { tables } })).import({ release: "cols", url: db.url, backup: false });
    expect(report.tables.every((t) => t.keyMode === "columns")).toBe(true);
    await expectTableEquals(db.url, "players", nextRelease()["players.json"] as Rec[]);
  });

  it('should refuse field names in a file configured with keys: "columns"', async () => {
    await ws.writeRelease("wrong", nextRelease());
    const tables = STANDARD_TABLES.map((t) => (t.model === "Team" ? { ...t, keys: "columns" as const } : t));
    const before = await stateOf(db.url);
    const f = await failure(new AtomicEtl(ws.config({ wrong: { tables } })).import({ release: "wrong", url: db.url, backup: false }));
    expect(f.error).toMatchObject({ code: "UNKNOWN_KEY", file: "releases/wrong/teams.json", record: 0, field: "leagueId" });
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should refuse a first record that mixes field names and column names", async () => {
    const files = clone(nextRelease());
    (files["teams.json"] as Rec[])[0] = { id: 10, league_id: 1, name: "Arsenal", shortName: "ARS" };
    await ws.writeRelease("mix", files);
    const f = await failure(
      new AtomicEtl(ws.config({ mix: { tables: STANDARD_TABLES } })).import({ release: "mix", url: db.url, backup: false }),
    );
    expect(f.error).toMatchObject({ code: "UNKNOWN_KEY", file: "releases/mix/teams.json", record: 0 });
  });

  it("should load a table configured by name (no Prisma model) with column keys", async () => {
    await ws.writeRelease("bytable", { "leagues.json": [{ id: 3, code: "SA", name: "Serie A", country: "Italy", season: 2026 }] });
    const config = ws.config({ bytable: { tables: [{ table: "leagues", file: "leagues.json" }] } });
    // the seeded teams reference leagues 7 and 8: clear them first
    await sql(db.url, "TRUNCATE teams, players, matches, player_match_stats");
    const report = await new AtomicEtl(config).import({ release: "bytable", url: db.url, backup: false });
    expect(report.tables[0]).toMatchObject({ table: "leagues", model: null, keyMode: "columns", rowsLoaded: 1 });
    await expectTableEquals(db.url, "leagues", [{ id: 3, code: "SA", name: "Serie A", country: "Italy", season: 2026 }]);
  });
});
