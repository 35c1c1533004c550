import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import type { StrategyName } from "../../src/config/schema.js";
import { clone, nextRelease, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";
import { ledgerSchemaExists } from "../ledger/support.js";
import { byId, changedRelease, expectNoResidue, expectPlanMatchesImport } from "./support.js";

const { db, ws } = useTestProject();

/** The database holds the standard release; `v2` changes every table of it. */
async function deployed(strategy: StrategyName) {
  await ws.writeRelease("v1", nextRelease());
  await ws.writeRelease("v2", changedRelease());
  const config = ws.config({ v1: { tables: STANDARD_TABLES }, v2: { tables: STANDARD_TABLES, strategy } });
  await new AtomicEtl(config).import({ release: "v1", url: db.url, backup: false });
  return new AtomicEtl(config);
}

describe("plan: its counts are the import's own", () => {
  for (const strategy of ["direct", "staged-truncate", "staged-delete", "swap"] as const) {
    it(`should predict exactly what a ${strategy} import then reports and does, writing nothing itself`, async () => {
      const etl = await deployed(strategy);
      const before = await byId(db.url);
      const state = await stateOf(db.url);
      const plan = await etl.plan({ release: "v2", url: db.url });
      expect(await stateOf(db.url)).toEqual(state);
      await expectNoResidue(db.url);
      const imported = await etl.import({ release: "v2", url: db.url, backup: false });
      expectPlanMatchesImport(plan, imported, before, await byId(db.url));
      expect(plan.tables.find((t) => t.table === "players")?.planned?.changes).toEqual({
        inserted: 1,
        updated: 1,
        deleted: 1,
        unchanged: 4,
      });
    });
  }

  it("should predict a scoped import: only the rows of its scope are replaced", async () => {
    const stats = (nextRelease()["player_match_stats.json"] as Record<string, unknown>[]).filter((s) => s.matchId === 1000);
    stats[0] = { ...stats[0], goals: 3 };
    await ws.writeRelease("v1", nextRelease());
    await ws.writeRelease("s", { "player_match_stats.json": stats.slice(0, 3) });
    const config = ws.config({
      v1: { tables: STANDARD_TABLES },
      s: { tables: [{ model: "PlayerMatchStat", file: "player_match_stats.json" }], strategy: "scoped", scope: { match_id: 1000 } },
    });
    const etl = new AtomicEtl(config);
    await etl.import({ release: "v1", url: db.url, backup: false });
    const before = await byId(db.url, ["player_match_stats"]);
    const plan = await etl.plan({ release: "s", url: db.url });
    const imported = await etl.import({ release: "s", url: db.url, backup: false });
    expectPlanMatchesImport(plan, imported, before, await byId(db.url, ["player_match_stats"]));
    expect(plan.tables[0]?.planned?.changes).toEqual({ inserted: 0, updated: 1, deleted: 1, unchanged: 2 });
  });

  it("should predict a merge with dedup, onlyIfNewer and deleteMissing exactly as the merge then reports it", async () => {
    await ws.writeRelease("v1", nextRelease());
    const v2 = changedRelease();
    const players = v2["players.json"] as Record<string, unknown>[];
    // a duplicate key: the newer record wins; an older record for a stored row is not applied (onlyIfNewer)
    players.push({ ...players[1], fullName: "Bo Newer", updatedAt: "2026-05-01T10:00:00Z" });
    players[2] = { ...players[2], fullName: "Cy Older", updatedAt: "2025-01-01T10:00:00Z" };
    await ws.writeRelease("m", v2);
    const merged = STANDARD_TABLES.map((t) =>
      t.model === "Player"
        ? { ...t, mode: "merge" as const, merge: { order: "updatedAt desc", onlyIfNewer: true } }
        : t.model === "PlayerMatchStat"
          ? { ...t, mode: "merge" as const, merge: { deleteMissing: true } }
          : { ...t, mode: "merge" as const },
    );
    const etl = new AtomicEtl(ws.config({ v1: { tables: STANDARD_TABLES }, m: { tables: merged } }));
    await etl.import({ release: "v1", url: db.url, backup: false });
    const before = await byId(db.url);
    const plan = await etl.plan({ release: "m", url: db.url });
    const imported = await etl.import({ release: "m", url: db.url, backup: false });
    const after = await byId(db.url);
    expectPlanMatchesImport(plan, imported, before, after);
    const pl = plan.tables.find((t) => t.table === "players")?.planned;
    // 101 takes its newer duplicate; 100 and 110 are not newer than the stored rows (onlyIfNewer); 111 is kept (no deleteMissing)
    expect(pl?.changes).toEqual({ inserted: 1, updated: 1, deleted: 0, unchanged: 4 });
    expect(pl?.duplicatesInSource).toBe(1);
    expect(plan.tables.find((t) => t.table === "player_match_stats")?.planned?.changes.deleted).toBe(1);
  });

  it("should diff a table without a primary key as a multiset of whole rows", async () => {
    await sql(
      db.url,
      "CREATE TABLE tags (name text NOT NULL, weight int)",
      "INSERT INTO tags VALUES ('a', 1), ('a', 1), ('b', 2), ('c', NULL)",
    );
    await ws.writeRelease("t", {
      "tags.json": [
        { name: "a", weight: 1 },
        { name: "b", weight: 3 },
        { name: "c", weight: null },
        { name: "d", weight: 4 },
      ],
    });
    const etl = new AtomicEtl(ws.config({ t: { tables: [{ table: "tags", file: "tags.json" }] } }));
    const plan = await etl.plan({ release: "t", url: db.url });
    const p = plan.tables[0]?.planned;
    expect(p?.matchedBy.kind).toBe("whole row");
    // one ('a',1) and ('b',2) go, ('b',3) and ('d',4) come, ('a',1) and ('c',NULL) stay
    expect(p?.changes).toEqual({ inserted: 2, updated: 0, deleted: 2, unchanged: 2 });
    expect(p?.samples.inserted.map((s) => s.values)).toEqual(
      expect.arrayContaining([
        { name: "b", weight: "3" },
        { name: "d", weight: "4" },
      ]),
    );
    const imported = await etl.import({ release: "t", url: db.url, backup: false });
    expect(p?.writes).toEqual(imported.tables[0]?.applied);
    expect(p?.rowsAfter).toBe(4);
  });
});

describe("plan: leaves no trace", () => {
  it("should leave fingerprints, rows, sequences and the catalog as they were: no ledger, no staging table, no lock", async () => {
    const files = clone(changedRelease());
    // stat lines without ids: an import would draw them from the serial's sequence
    for (const s of files["player_match_stats.json"] as Record<string, unknown>[]) delete s.id;
    await ws.writeRelease("v2", files);
    const seq = async () => (await sql<{ v: string }>(db.url, "SELECT last_value::text AS v FROM player_match_stats_id_seq"))[0]?.v;
    const state = await stateOf(db.url);
    const lastValue = await seq();
    const plan = await new AtomicEtl(ws.config({ v2: { tables: STANDARD_TABLES } })).plan({ release: "v2", url: db.url });
    expect(plan.outcome).toBe("planned");
    expect(plan.tables.find((t) => t.table === "player_match_stats")?.planned?.changes.inserted).toBe(8);
    expect(await stateOf(db.url)).toEqual(state);
    expect(await seq()).toBe(lastValue);
    expect(await ledgerSchemaExists(db.url)).toBe(false);
    await expectNoResidue(db.url);
  });

  it("should show the changed columns of updated rows, old → new", async () => {
    const etl = await deployed("staged-delete");
    const plan = await etl.plan({ release: "v2", url: db.url, samples: 3 });
    const players = plan.tables.find((t) => t.table === "players")?.planned;
    expect(players?.samples.updated).toEqual([
      {
        key: { id: "100" },
        changes: { full_name: { old: "Ada Keeper", new: "Ada Keeper-Smith" }, height_cm: { old: "191", new: "190" } },
      },
    ]);
    expect(players?.samples.inserted.map((s) => s.key)).toEqual([{ id: "120" }]);
    expect(players?.samples.deleted.map((s) => [s.key, s.values?.full_name])).toEqual([[{ id: "111" }, "Di Forward"]]);
  });
});
