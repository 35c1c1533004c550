import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import type { ConfigInput } from "../../src/config/schema.js";
import { failure, nextRelease, snapshot, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";

type Rec = Record<string, unknown>;
type Files = Record<string, Rec[]>;

/**
 * Every strategy names the record behind a duplicate key or an orphan: file, 0-based record,
 * the field as the file spells it (Prisma field names here), and the value. The staged
 * strategies find these in staging, merge in its upsert; the record is found in the file.
 */
const { db, ws } = useTestProject({ seed: false });

/** `files` with `patch` merged into record `index` of `file` (or appended as a new record when `index` is past the end). */
function edit(files: Files, file: string, index: number, patch: Rec): Files {
  const rows = [...(files[file] as Rec[])];
  rows[index] = { ...(rows[index] ?? {}), ...patch };
  return { ...files, [file]: rows };
}

/** The stats of match 1000 only: the release of the `scoped` cases (scope match_id = 1000). */
const matchStats = (): Files => ({
  "player_match_stats.json": (nextRelease()["player_match_stats.json"] as Rec[]).filter((m) => m.matchId === 1000),
});

interface Case {
  strategy: "direct" | "staged-truncate" | "staged-delete" | "swap" | "scoped" | "merge";
  release: ConfigInput["releases"][string];
  duplicate: { files: Files; file: string; record: number; duplicateOf: number; field: string; shown: string };
  orphan: { files: Files; file: string; record: number; field: string; value: unknown };
}

const replace = (strategy: Case["strategy"]): Case => ({
  strategy,
  release: { tables: STANDARD_TABLES, strategy },
  duplicate: {
    files: edit(nextRelease(), "teams.json", 4, { id: 11, leagueId: 1, name: "Chelsea B" }),
    file: "teams.json",
    record: 4,
    duplicateOf: 1,
    field: "id",
    shown: "id = 11",
  },
  orphan: { files: edit(nextRelease(), "players.json", 2, { teamId: 99 }), file: "players.json", record: 2, field: "teamId", value: 99 },
});

const CASES: Case[] = [
  replace("direct"),
  replace("staged-truncate"),
  replace("staged-delete"),
  replace("swap"),
  {
    // the stats of match 1000 only: nothing outside the release references them
    strategy: "scoped",
    release: { strategy: "scoped", scope: { match_id: 1000 }, tables: [{ model: "PlayerMatchStat", file: "player_match_stats.json" }] },
    duplicate: {
      files: edit(matchStats(), "player_match_stats.json", 4, { id: 2, playerId: 200, matchId: 1000, minutesPlayed: 10 }),
      file: "player_match_stats.json",
      record: 4,
      duplicateOf: 1,
      field: "id",
      shown: "id = 2",
    },
    orphan: {
      files: edit(matchStats(), "player_match_stats.json", 1, { playerId: 98 }),
      file: "player_match_stats.json",
      record: 1,
      field: "playerId",
      value: 98,
    },
  },
  {
    // merge keeps the latest of a repeated key; with no merge.order two different records of one key are a tie
    ...replace("merge"),
    strategy: "merge",
    release: { tables: STANDARD_TABLES, strategy: "merge" },
  },
];

async function refused(c: Case, files: Files) {
  await ws.writeRelease("base", nextRelease());
  const etl = new AtomicEtl(ws.config({ base: { tables: STANDARD_TABLES }, bad: c.release }));
  await etl.import({ release: "base", url: db.url, backup: false });
  const before = await snapshot(db.url);
  await ws.writeRelease("bad", files);
  const f = await failure(etl.import({ release: "bad", url: db.url, backup: false }));
  expect(await snapshot(db.url)).toEqual(before);
  return f.error;
}

describe("every strategy names the record behind a duplicate key or an orphan", () => {
  for (const c of CASES) {
    it(`should name file, record, field and value of a duplicate key with ${c.strategy}`, async () => {
      const d = c.duplicate;
      const e = await refused(c, d.files);
      expect(e).toMatchObject({ code: "DUPLICATE_KEY", file: `releases/bad/${d.file}`, record: d.record, field: d.field });
      expect(e.meta.duplicateOf).toBe(d.duplicateOf);
      expect(e.message).toContain(`releases/bad/${d.file}: record #${d.record}`);
      expect(e.message).toContain(d.shown);
      expect(e.message).toContain(`record #${d.duplicateOf}`);
      expect(e.next).toBeTruthy();
    });

    it(`should name file, record, field and value of a foreign-key orphan with ${c.strategy}`, async () => {
      const o = c.orphan;
      const e = await refused(c, o.files);
      expect(e).toMatchObject({ code: "FK_VIOLATION", file: `releases/bad/${o.file}`, record: o.record, field: o.field });
      expect(e.meta.value).toEqual([o.value]);
      expect(e.message).toContain(`releases/bad/${o.file}: record #${o.record}`);
      expect(e.message).toContain(`${o.field} = ${JSON.stringify(o.value)}, which is not in`);
      expect(e.next).toBeTruthy();
    });
  }

  it("should name the record outside the scope with scoped", async () => {
    const c = CASES.find((x) => x.strategy === "scoped") as Case;
    const files = edit(matchStats(), "player_match_stats.json", 2, { matchId: 2000 });
    const e = await refused(c, files);
    expect(e).toMatchObject({ code: "VALIDATION_FAILED", file: "releases/bad/player_match_stats.json", record: 2, field: "matchId" });
    expect(e.message).toContain("releases/bad/player_match_stats.json: record #2 has matchId = 2000");
    expect(e.meta.value).toEqual([2000]);
  });

  it("should name the record whose value another unique key already holds with merge", async () => {
    const c = CASES.find((x) => x.strategy === "merge") as Case;
    const files = edit(nextRelease(), "leagues.json", 2, { id: 3, code: "EPL", name: "Another", country: "England", season: 2026 });
    const e = await refused(c, files);
    expect(e).toMatchObject({ code: "DUPLICATE_KEY", file: "releases/bad/leagues.json", record: 2, field: "code" });
    expect(e.message).toContain('code = "EPL"');
    expect(e.meta.duplicateOf).toBe(0);
  });

  it("should name the only record whose value a stored row (not in the file) holds under another key with merge", async () => {
    const c = CASES.find((x) => x.strategy === "merge") as Case;
    const release = nextRelease();
    // league 1 (code EPL) stays stored but leaves the file; the file's record #1 is a new league with its code
    const others = (release["leagues.json"] as Rec[]).filter((l) => l.id !== 1);
    const leagues = [...others, { id: 3, code: "EPL", name: "Another", country: "England", season: 2026 }];
    const e = await refused(c, { ...release, "leagues.json": leagues });
    expect(e).toMatchObject({ code: "DUPLICATE_KEY", file: "releases/bad/leagues.json", record: others.length, field: "code" });
    expect(e.message).toContain(
      `releases/bad/leagues.json: record #${others.length} has code = "EPL", which a row of leagues already holds`,
    );
    expect(e.meta.duplicateOf).toBeUndefined();
  });
});
