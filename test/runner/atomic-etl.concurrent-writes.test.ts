import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { PrismaPg } from "@prisma/adapter-pg";
import { AtomicEtl } from "../../src/atomic-etl.js";
import type { ConfigInput } from "../../src/config/schema.js";
import { failure, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject({ release: true });

const FAILING_CHECK = [{ name: "always fails", sql: "SELECT 1 AS violation" }];
const APP_UPDATE = "UPDATE leagues SET name = 'APP WROTE THIS' WHERE id = 7";

type Release = ConfigInput["releases"][string];

const releases: Record<string, Release> = {
  direct: { tables: STANDARD_TABLES, strategy: "direct", checks: FAILING_CHECK },
  "staged-truncate": { tables: STANDARD_TABLES, strategy: "staged-truncate", checks: FAILING_CHECK },
  "staged-delete": { tables: STANDARD_TABLES, strategy: "staged-delete", checks: FAILING_CHECK },
  swap: { tables: STANDARD_TABLES, strategy: "swap", checks: FAILING_CHECK },
  merge: { tables: STANDARD_TABLES.map((t) => ({ ...t, mode: "merge" as const })), checks: FAILING_CHECK },
};

/** The stats of the seed's match 7000, one changed and one new: a scoped release that loads cleanly. */
const SCOPED_STATS = [
  { id: 50, playerId: 700, matchId: 7000, minutesPlayed: 90, goals: 1, createdAt: "2025-05-01T15:00:00Z" },
  { id: 52, playerId: 701, matchId: 7000, minutesPlayed: 10, createdAt: "2025-05-01T15:00:00Z" },
];

/** What the application commits, per case, and what must be there after the failed run. */
const APP_WRITES = {
  tables: [
    APP_UPDATE,
    "INSERT INTO leagues (id, code, name, country, season) VALUES (9, 'APP', 'App League', 'Here', 2026)",
    "DELETE FROM player_match_stats WHERE id = 51",
  ],
  scoped: [
    "UPDATE player_match_stats SET goals = 4 WHERE id = 50",
    "DELETE FROM player_match_stats WHERE id = 51",
    "INSERT INTO player_match_stats (id, player_id, match_id, minutes_played, created_at) VALUES (60, 701, 7000, 1, now())",
  ],
};

describe("AtomicEtl.import: other sessions' writes during a failing run", () => {
  const cases: [string, Release, "tables" | "scoped"][] = [
    ...Object.entries(releases).map(([s, r]) => [s, r, "tables"] as [string, Release, "tables"]),
    [
      "scoped",
      {
        strategy: "scoped",
        scope: { match_id: 7000 },
        tables: [{ model: "PlayerMatchStat", file: "player_match_stats.json" }],
        checks: FAILING_CHECK,
      },
      "scoped",
    ],
  ];
  for (const [strategy, release, writes] of cases) {
    it(`should keep an application's UPDATE, INSERT and DELETE committed between the backup and the run's locks (${strategy}) and report CONCURRENT_CHANGES`, async () => {
      if (writes === "scoped") await ws.writeRelease("r", { "player_match_stats.json": SCOPED_STATS });
      const etl = new AtomicEtl(ws.config({ r: release }));
      const f = await failure(
        etl.import({
          release: "r",
          url: db.url,
          backup: "tables",
          // the transaction is open, but no target is locked yet: an application commits its writes
          hooks: { onPhase: async (phase) => void (phase === "clear" && (await sql(db.url, ...APP_WRITES[writes]))) },
        }),
      );
      expect(f.error.code).toBe("CHECK_FAILED");
      expect(f.error.data).toBe("rolled back; concurrent changes kept");
      expect(f.report.outcome).toBe("rolled back");
      expect(f.report.warnings).toEqual([
        expect.objectContaining({
          code: "CONCURRENT_CHANGES",
          tables: writes === "scoped" ? ["player_match_stats"] : ["leagues", "player_match_stats"],
          next: expect.stringContaining(`atomic-etl restore ${f.report.backup?.id}`),
        }),
      ]);
      // the application's writes survive: nothing was restored over them
      if (writes === "scoped") {
        expect(await sql(db.url, "SELECT id, goals FROM player_match_stats ORDER BY id")).toEqual([
          { id: 50, goals: 4 },
          { id: 60, goals: 0 },
        ]);
      } else {
        expect(await sql(db.url, "SELECT id, name FROM leagues ORDER BY id")).toEqual([
          { id: 7, name: "APP WROTE THIS" },
          { id: 8, name: "Older League" },
          { id: 9, name: "App League" },
        ]);
        expect(await sql(db.url, "SELECT id FROM player_match_stats ORDER BY id")).toEqual([{ id: 50 }]);
      }
      expect(await sql(db.url, "SELECT count(*)::int AS n FROM players")).toEqual([{ n: 2 }]);
    });
  }

  it("should keep an UPDATE, an INSERT and a DELETE an application commits during a staged-delete load", async () => {
    const etl = new AtomicEtl(ws.config({ r: releases["staged-delete"] as Release }));
    let wrote = false;
    const f = await failure(
      etl.import({
        release: "r",
        url: db.url,
        backup: "tables",
        hooks: {
          afterBatch: async () => {
            if (wrote) return;
            wrote = true;
            // the targets are not locked while staging loads
            await sql(
              db.url,
              APP_UPDATE,
              "INSERT INTO leagues (id, code, name, country, season) VALUES (9, 'APP', 'App League', 'Here', 2026)",
              "DELETE FROM player_match_stats WHERE id = 51",
            );
          },
        },
      }),
    );
    expect(f.error).toMatchObject({ code: "CHECK_FAILED", data: "rolled back; concurrent changes kept" });
    expect(f.report.warnings[0]?.tables).toEqual(["leagues", "player_match_stats"]);
    expect(await sql(db.url, "SELECT id, name FROM leagues ORDER BY id")).toEqual([
      { id: 7, name: "APP WROTE THIS" },
      { id: 8, name: "Older League" },
      { id: 9, name: "App League" },
    ]);
    expect(await sql(db.url, "SELECT id FROM player_match_stats ORDER BY id")).toEqual([{ id: 50 }]);
  });

  it("should report a failing run with no concurrent write as rolled back with the database unchanged, without a warning", async () => {
    const before = await stateOf(db.url);
    const etl = new AtomicEtl(ws.config({ r: releases["staged-delete"] as Release }));
    const f = await failure(etl.import({ release: "r", url: db.url, backup: "tables" }));
    expect(f.error.data).toBe("rolled back; database unchanged");
    expect(f.report.warnings).toEqual([]);
    expect(await stateOf(db.url)).toEqual(before);
  });
});

describe("AtomicEtl.import: one database per run", () => {
  it("should refuse a client factory that reaches another database (DATABASE_MISMATCH), touching neither and taking no backup", async () => {
    const { freshDatabase } = await import("../support/postgres.js");
    const other = await freshDatabase();
    try {
      const elsewhere = ws.config({ r: { tables: STANDARD_TABLES } }).client;
      const etl = new AtomicEtl(
        ws.config(
          { r: { tables: STANDARD_TABLES } },
          { client: () => elsewhere({ url: other.url, adapter: new PrismaPg({ connectionString: other.url }) }) },
        ),
      );
      const [mine, theirs] = [await stateOf(db.url), await stateOf(other.url)];
      const f = await failure(etl.import({ release: "r", url: db.url, backup: "tables" }));
      expect(f.error.code).toBe("DATABASE_MISMATCH");
      expect(f.error.exitCode).toBe(6);
      expect(f.error.data).toBe("untouched");
      expect(f.error.message).toContain(other.name);
      expect(f.error.message).toContain(db.name);
      expect(f.error.message).not.toMatch(/postgres:\/\/|password/i);
      expect(await readdir(ws.backupDir).catch(() => [])).toEqual([]);
      expect(await stateOf(db.url)).toEqual(mine);
      expect(await stateOf(other.url)).toEqual(theirs);
    } finally {
      await other.drop();
    }
  });

  it("should record the database identity (cluster, name, OID) in the report, never the host or credentials", async () => {
    const report = await new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({ release: "r", url: db.url, backup: false });
    const [row] = await sql<{ oid: string; sysid: string }>(
      db.url,
      "SELECT (SELECT oid::text FROM pg_database WHERE datname = current_database()) AS oid, (SELECT system_identifier::text FROM pg_control_system()) AS sysid",
    );
    expect(report.database).toEqual({ database: db.name, oid: Number(row?.oid), systemIdentifier: row?.sysid });
    expect(JSON.stringify(report)).not.toContain(new URL(db.url).password);
  });
});
