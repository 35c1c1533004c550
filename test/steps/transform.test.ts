import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { clone, expectTableEquals, failure, nextRelease, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

type Rec = Record<string, unknown>;

const withTransforms = (transforms: Record<string, (r: Rec, ctx: { index: number; file: string }) => Rec | Rec[] | null>) =>
  STANDARD_TABLES.map((t) => (transforms[t.model] ? { ...t, transform: transforms[t.model] } : t));

describe("per-table transforms", () => {
  it("should rename, derive, split and drop records before validation, producing exactly the expected rows", async () => {
    const files = clone(nextRelease());
    // an export that spells the team name differently and carries no short names
    files["teams.json"] = (files["teams.json"] as Rec[]).map(({ name, shortName: _s, ...rest }) => ({ ...rest, title: name }));
    // one league record stands for two leagues
    files["leagues.json"] = [
      { id: 1, code: "EPL", name: "Premier League", country: "England", season: 2026, alsoAs: { id: 3, code: "EPL2" } },
      (files["leagues.json"] as Rec[])[1] as Rec,
    ];
    // stats marked as drafts are not imported
    const stats = files["player_match_stats.json"] as Rec[];
    for (const i of [2, 5]) (stats[i] as Rec).draft = true;
    await ws.writeRelease("r", files);
    const tables = withTransforms({
      Team: ({ title, ...rest }) => ({ ...rest, name: title, shortName: String(title).slice(0, 3).toUpperCase() }),
      League: ({ alsoAs, ...rest }) => (alsoAs ? [rest, { ...rest, ...(alsoAs as Rec), name: `${String(rest.name)} II` }] : rest),
      PlayerMatchStat: ({ draft, ...rest }) => (draft ? null : rest),
    });
    const report = await new AtomicEtl(ws.config({ r: { tables } })).import({ release: "r", url: db.url, batchSize: 2 });
    expect(report.outcome).toBe("committed");
    const want = nextRelease();
    await expectTableEquals(db.url, "leagues", [
      ...(want["leagues.json"] as Rec[]),
      { id: 3, code: "EPL2", name: "Premier League II", country: "England", season: 2026 },
    ]);
    await expectTableEquals(
      db.url,
      "teams",
      (want["teams.json"] as Rec[]).map((t) => ({ ...t, shortName: String(t.name).slice(0, 3).toUpperCase() })),
    );
    await expectTableEquals(
      db.url,
      "player_match_stats",
      (want["player_match_stats.json"] as Rec[]).filter((_, i) => i !== 2 && i !== 5),
      { goals: "0", assists: "0" },
    );
    expect(report.tables.find((t) => t.table === "leagues")?.records).toBe(3);
    expect(report.tables.find((t) => t.table === "player_match_stats")?.records).toBe(6);
  });

  it("should name the file and the record when a transform throws (TRANSFORM_FAILED, exit 4), and change nothing", async () => {
    await ws.writeRelease("r", nextRelease());
    const before = await stateOf(db.url);
    const tables = withTransforms({
      Player: (r, ctx) => {
        if (ctx.index === 4) throw new Error(`no mapping for ${String(r.fullName)}`);
        return r;
      },
    });
    const f = await failure(new AtomicEtl(ws.config({ r: { tables } })).import({ release: "r", url: db.url, batchSize: 2 }));
    expect(f.error).toMatchObject({
      code: "TRANSFORM_FAILED",
      file: "releases/r/players.json",
      record: 4,
      table: "players",
      data: "rolled back; database unchanged",
    });
    expect(f.error.exitCode).toBe(4);
    expect(f.error.message).toContain("no mapping for Ed Sevillano");
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should name the file's record, not its place after a split or a drop, when a transformed record is invalid", async () => {
    const files = clone(nextRelease());
    const players = files["players.json"] as Rec[];
    (players[4] as Rec).heightCm = "tall";
    await ws.writeRelease("r", files);
    // drops record 1, triples record 2: record 4 is the 6th output
    const tables = withTransforms({
      Player: (r, ctx) => (ctx.index === 1 ? null : ctx.index === 2 ? [r, { ...r, id: 998 }, { ...r, id: 999 }] : r),
    });
    const f = await failure(new AtomicEtl(ws.config({ r: { tables } })).import({ release: "r", url: db.url, backup: false }));
    expect(f.error).toMatchObject({ code: "VALIDATION_FAILED", file: "releases/r/players.json", record: 4, field: "heightCm" });
  });
});
