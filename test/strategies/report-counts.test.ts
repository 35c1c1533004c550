import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { nextRelease, sql, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";

/**
 * The report's counts are real or null: a replace inserts the rows it loaded and deletes the
 * rows that were there; only swap, which drops the old table whole without scanning it, says
 * `deleted: null`. Never -1.
 */
describe("report counts", () => {
  const { db, ws } = useTestProject({ release: true });

  for (const strategy of ["direct", "staged-truncate", "staged-delete", "swap"] as const) {
    it(`should report inserted = rows loaded and deleted = rows before (or null where it is not counted) with ${strategy}`, async () => {
      const before = await sql<{ table: string; n: number }>(
        db.url,
        `SELECT 'leagues' AS table, count(*)::int AS n FROM leagues UNION ALL SELECT 'teams', count(*)::int FROM teams
         UNION ALL SELECT 'players', count(*)::int FROM players UNION ALL SELECT 'matches', count(*)::int FROM matches
         UNION ALL SELECT 'player_match_stats', count(*)::int FROM player_match_stats`,
      );
      const report = await new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, strategy } })).import({
        release: "r",
        url: db.url,
        backup: false,
      });
      const records = Object.fromEntries(Object.entries(nextRelease()).map(([f, rows]) => [f, rows.length]));
      for (const t of report.tables) {
        const was = before.find((b) => b.table === t.table)?.n;
        expect(t.rowsBefore).toBe(was);
        expect(t.applied).toEqual({
          inserted: records[t.file.replace(/^.*\//, "")],
          updated: 0,
          unchanged: 0,
          deleted: strategy === "swap" ? null : was,
          duplicatesInSource: 0,
        });
      }
    });
  }
});
