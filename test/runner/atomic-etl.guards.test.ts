import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { failure, nextRelease, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

const withStats = (stats: unknown[]) => ({ ...nextRelease(), "player_match_stats.json": stats as Record<string, unknown>[] });
const tables = (statsEntry: Record<string, unknown>) =>
  STANDARD_TABLES.map((t) => (t.model === "PlayerMatchStat" ? { ...t, ...statsEntry } : t));

describe("AtomicEtl.import: guards against silent loss", () => {
  for (const strategy of ["direct", "staged-truncate", "staged-delete", "swap"] as const) {
    it(`should refuse an empty file for a table that has rows (${strategy}), leaving the database as it was`, async () => {
      await ws.writeRelease("r", withStats([]));
      const before = await stateOf(db.url);
      const f = await failure(
        new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, strategy } })).import({ release: "r", url: db.url, backup: false }),
      );
      expect(f.error).toMatchObject({
        code: "EMPTY_FILE_REFUSED",
        table: "player_match_stats",
        file: "releases/r/player_match_stats.json",
      });
      expect(f.error.exitCode).toBe(5);
      expect(f.error.message).toBe(
        "releases/r/player_match_stats.json holds no records, and player_match_stats has 2 rows that this run would delete",
      );
      expect(f.error.next).toContain("allowEmpty: true");
      expect(f.error.data).toBe("rolled back; database unchanged");
      expect(await stateOf(db.url)).toEqual(before);
    });
  }

  it("should refuse an empty file for a scope that holds rows (scoped)", async () => {
    await ws.writeRelease("r", { "player_match_stats.json": [] });
    const before = await stateOf(db.url);
    const release = {
      strategy: "scoped" as const,
      scope: { match_id: 7000 },
      tables: [{ model: "PlayerMatchStat", file: "player_match_stats.json" }],
    };
    const f = await failure(new AtomicEtl(ws.config({ r: release })).import({ release: "r", url: db.url, backup: false }));
    expect(f.error).toMatchObject({ code: "EMPTY_FILE_REFUSED", table: "player_match_stats", data: "rolled back; database unchanged" });
    expect(f.error.message).toContain("player_match_stats has 2 rows that this run would delete");
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should empty the table when it says allowEmpty: true", async () => {
    await ws.writeRelease("r", withStats([]));
    const report = await new AtomicEtl(ws.config({ r: { tables: tables({ allowEmpty: true }) } })).import({
      release: "r",
      url: db.url,
      backup: false,
    });
    expect(report.outcome).toBe("committed");
    expect(await sql(db.url, "SELECT count(*)::int AS n FROM player_match_stats")).toEqual([{ n: 0 }]);
  });

  it("should take an empty file for an empty table without complaint", async () => {
    await sql(db.url, "DELETE FROM player_match_stats");
    await ws.writeRelease("r", withStats([]));
    const report = await new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({ release: "r", url: db.url, backup: false });
    expect(report.outcome).toBe("committed");
  });

  it("should refuse a replace that removes more than maxDeletePercent of a table's rows, naming the numbers", async () => {
    const one = (nextRelease()["player_match_stats.json"] as Record<string, unknown>[]).slice(0, 1);
    await ws.writeRelease("r", withStats(one));
    const before = await stateOf(db.url);
    const f = await failure(
      new AtomicEtl(ws.config({ r: { tables: tables({ maxDeletePercent: 40 }), strategy: "staged-delete" } })).import({
        release: "r",
        url: db.url,
        backup: false,
      }),
    );
    expect(f.error.code).toBe("DELETE_LIMIT_EXCEEDED");
    expect(f.error.message).toBe(
      "player_match_stats: this run would remove 1 of its 2 rows (50.0%), more than its maxDeletePercent of 40%",
    );
    expect(f.error.meta).toMatchObject({ rowsBefore: 2, removed: 1, percent: 50, maxDeletePercent: 40 });
    expect(await stateOf(db.url)).toEqual(before);
    const ok = await new AtomicEtl(ws.config({ r: { tables: tables({ maxDeletePercent: 60 }) } })).import({
      release: "r",
      url: db.url,
      backup: false,
    });
    expect(ok.outcome).toBe("committed");
  });

  it("should refuse a merge whose deleteMissing would remove more than maxDeletePercent, and an empty file under deleteMissing", async () => {
    const one = (nextRelease()["player_match_stats.json"] as Record<string, unknown>[]).slice(0, 1);
    await ws.writeRelease("m", { "player_match_stats.json": one.map((r) => ({ ...r, playerId: 700, matchId: 7000 })) });
    await ws.writeRelease("e", { "player_match_stats.json": [] });
    const merge = (file: string, extra: Record<string, unknown>) => ({
      tables: [{ model: "PlayerMatchStat", file, mode: "merge" as const, merge: { deleteMissing: true }, ...extra }],
    });
    const before = await stateOf(db.url);
    const etl = new AtomicEtl(
      ws.config({ m: merge("player_match_stats.json", { maxDeletePercent: 10 }), e: merge("player_match_stats.json", {}) }),
    );
    const f = await failure(etl.import({ release: "m", url: db.url, backup: false }));
    expect(f.error.code).toBe("DELETE_LIMIT_EXCEEDED");
    expect(f.error.message).toContain("would remove 2 of its 2 rows (100.0%)");
    const g = await failure(etl.import({ release: "e", url: db.url, backup: false }));
    expect(g.error.code).toBe("EMPTY_FILE_REFUSED");
    expect(await stateOf(db.url)).toEqual(before);
  });
});
