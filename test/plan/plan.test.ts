import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import type { ConfigInput } from "../../src/config/schema.js";
import { clone, failure, nextRelease, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";
import { ledgerRows } from "../ledger/support.js";
import { changedRelease, expectNoResidue } from "./support.js";

const { db, ws } = useTestProject();

type Release = ConfigInput["releases"][string];
const etlFor = (release: Partial<Release> = {}) => new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, ...release } }));

describe("plan: outcome and refusals", () => {
  it("should plan production without --force, since it writes nothing", async () => {
    await ws.writeRelease("r", nextRelease());
    const plan = await etlFor().plan({ release: "r", url: db.url, env: "production" });
    expect(plan).toMatchObject({ mode: "plan", outcome: "planned", environment: "production", error: null, backup: null });
    expect(plan.planHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("should fail with the import's own error and code when the release cannot be deployed, touching nothing", async () => {
    const files = clone(nextRelease());
    (files["teams.json"] as Record<string, unknown>[])[1]!.id = 10;
    await ws.writeRelease("r", files);
    const before = await stateOf(db.url);
    for (const strategy of ["direct", "staged-delete"] as const) {
      const f = await failure(etlFor({ strategy }).plan({ release: "r", url: db.url }));
      expect(f.error).toMatchObject({ code: "DUPLICATE_KEY", table: "teams", data: "untouched" });
      expect(f.error.exitCode).toBe(5);
      expect(f.report).toMatchObject({ mode: "plan", outcome: "refused" });
    }
    expect(await stateOf(db.url)).toEqual(before);
    expect(await ledgerRows(db.url)).toEqual([]);
    await expectNoResidue(db.url);
  });

  it("should run the release's checks against the rows the import would leave, not the rows there now", async () => {
    const files = clone(nextRelease());
    (files["teams.json"] as Record<string, unknown>[])[0]!.name = "Arsenal FC";
    await ws.writeRelease("r", files);
    // "Old Town" is there now and goes with the release; "Arsenal FC" comes with it
    const passes = etlFor({ checks: [{ name: "no Old Town", sql: "SELECT id FROM teams WHERE name = 'Old Town'" }] });
    expect((await passes.plan({ release: "r", url: db.url })).checks).toEqual([
      expect.objectContaining({ name: "no Old Town", passed: true }),
    ]);
    const fails = etlFor({ checks: [{ name: "no Arsenal FC", sql: "SELECT id FROM teams WHERE name = 'Arsenal FC'" }] });
    const f = await failure(fails.plan({ release: "r", url: db.url }));
    expect(f.error).toMatchObject({ code: "CHECK_FAILED", data: "untouched" });
    // the import agrees
    expect((await failure(fails.import({ release: "r", url: db.url, backup: false }))).error.code).toBe("CHECK_FAILED");
  });

  it("should let checks see merged rows: kept, changed and new", async () => {
    const check = (name: string, sql: string) => ({
      tables: [{ model: "Team", file: "teams.json", mode: "merge" as const }],
      checks: [{ name, sql }],
    });
    const etl = new AtomicEtl(
      ws.config({
        ok: check(
          "three league-7 teams, one renamed",
          "SELECT 1 WHERE (SELECT count(*) FROM teams WHERE league_id = 7 AND name IN ('Renamed Town', 'Old City', 'New Town')) <> 3",
        ),
        bad: check("Old Town stays", "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM teams WHERE name = 'Old Town')"),
      }),
    );
    await ws.writeRelease("ok", {
      "teams.json": [
        { id: 70, leagueId: 7, name: "Renamed Town" },
        { id: 72, leagueId: 7, name: "New Town" },
      ],
    });
    await ws.writeRelease("bad", { "teams.json": [{ id: 70, leagueId: 7, name: "Renamed Town" }] });
    expect((await etl.plan({ release: "ok", url: db.url })).outcome).toBe("planned");
    expect((await failure(etl.plan({ release: "bad", url: db.url }))).error.code).toBe("CHECK_FAILED");
  });

  it("should refuse a merge with the error its upsert would hit: another unique key, a missing parent, a CHECK constraint", async () => {
    await ws.writeRelease("v1", nextRelease());
    await new AtomicEtl(ws.config({ v1: { tables: STANDARD_TABLES } })).import({ release: "v1", url: db.url, backup: false });
    await sql(db.url, "ALTER TABLE players ADD CONSTRAINT players_height_check CHECK (height_cm < 250)");
    const stats = (p: Record<string, unknown>) => ({
      tables: [{ model: "PlayerMatchStat", file: "s.json", mode: "merge" as const }],
      ...p,
    });
    const players = { tables: [{ model: "Player", file: "p.json", mode: "merge" as const }] };
    const cases: [string, Record<string, unknown>, Record<string, unknown>[], string][] = [
      ["stats", stats({}), [{ id: 1, playerId: 101, matchId: 1000, minutesPlayed: 1 }], "DUPLICATE_KEY"],
      [
        "orphan",
        players,
        [{ id: 300, teamId: 999, fullName: "Nobody", position: "FORWARD", updatedAt: "2026-01-01T00:00:00Z" }],
        "FK_VIOLATION",
      ],
      [
        "tall",
        players,
        [{ id: 100, teamId: 10, fullName: "Ada", position: "GOALKEEPER", heightCm: 300, updatedAt: "2026-01-01T00:00:00Z" }],
        "CONSTRAINT_VIOLATION",
      ],
    ];
    for (const [name, release, rows, code] of cases) {
      await ws.writeRelease(name, { "s.json": rows, "p.json": rows });
      const etl = new AtomicEtl(ws.config({ [name]: release as Release }));
      const before = await stateOf(db.url);
      const planned = await failure(etl.plan({ release: name, url: db.url }));
      const imported = await failure(etl.import({ release: name, url: db.url, backup: false }));
      expect([name, planned.error.code], planned.error.message).toEqual([name, code]);
      expect([name, imported.error.code]).toEqual([name, code]);
      expect(planned.error.table).toBe(imported.error.table);
      expect(await stateOf(db.url)).toEqual(before);
    }
  });

  it("should run while an import holds the run lock: a plan takes none", async () => {
    await ws.writeRelease("r", nextRelease());
    let planned: Awaited<ReturnType<AtomicEtl["plan"]>> | null = null;
    const report = await etlFor({ strategy: "staged-delete" }).import({
      release: "r",
      url: db.url,
      backup: false,
      hooks: {
        afterBatch: async ({ table }) => {
          if (table === "teams" && !planned) planned = await etlFor().plan({ release: "r", url: db.url });
        },
      },
    });
    expect(report.outcome).toBe("committed");
    expect(planned).toMatchObject({ outcome: "planned" });
  });
});

describe("plan: what it reports", () => {
  it("should name each strategy's final-phase lock, who waits, and an estimate of how long", async () => {
    await ws.writeRelease("r", changedRelease());
    const lockOf = async (strategy: "direct" | "staged-delete" | "swap") =>
      (await etlFor({ strategy }).plan({ release: "r", url: db.url })).plan?.finalPhase;
    expect(await lockOf("direct")).toEqual([
      expect.objectContaining({
        strategy: "direct",
        mode: "ACCESS EXCLUSIVE",
        held: "whole run",
        tables: [...["leagues", "teams", "players", "matches", "player_match_stats"]],
      }),
    ]);
    const staged = await lockOf("staged-delete");
    expect(staged).toEqual([expect.objectContaining({ mode: "ROW EXCLUSIVE", held: "final phase", estimatedMs: expect.any(Number) })]);
    expect(staged?.[0]?.blocks).toContain("readers never wait");
    expect(staged?.[0]?.basis).toMatch(/rows written × [\d.]+ µs\/row/);
    expect(await lockOf("swap")).toEqual([expect.objectContaining({ mode: "ACCESS EXCLUSIVE", held: "rename" })]);
  });

  it("should say what it could not do as the import will, and when the release was last deployed", async () => {
    await ws.writeRelease("r", nextRelease());
    const etl = etlFor({
      afterLoad: ["UPDATE teams SET founded = founded"],
      checks: [{ name: "qualified", sql: "SELECT id FROM public.teams WHERE id < 0" }],
    });
    const deployed = await etl.import({ release: "r", url: db.url, backup: false });
    const plan = await etl.plan({ release: "r", url: db.url });
    expect(plan.plan?.notes).toEqual([
      expect.stringContaining("afterLoad: 1 statement(s) not run by a plan"),
      expect.stringContaining('check "qualified" names public.teams with its schema'),
    ]);
    expect(plan.plan?.lastDeployed).toMatchObject({ runId: deployed.runId, sameContent: true });
    expect(
      plan.tables.every((t) => t.planned?.changes.inserted === 0 && t.planned.changes.updated === 0 && t.planned.changes.deleted === 0),
    ).toBe(true);
  });
});
