/**
 * scripts/release-generator.ts: deterministic, correctly distributed, referentially intact
 * releases, the same rows in JSON / NDJSON / CSV, and values PostgreSQL accepts as they are.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  csvField,
  generateRelease,
  mulberry32,
  planRelease,
  RELEASE_COLUMNS,
  RELEASE_TABLES,
  type ReleaseTable,
} from "../../scripts/release-generator.js";
import { freshDatabase, REPO_ROOT } from "../support/postgres.js";

type Row = Record<string, unknown>;
type Release = Record<ReleaseTable, Row[]>;

const tmpRoots: string[] = [];
async function tmp(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "atomic-etl-release-"));
  tmpRoots.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of tmpRoots) await rm(dir, { recursive: true, force: true });
});

async function readJsonRelease(dir: string, ext: "json" | "ndjson" = "json"): Promise<Release> {
  const out = {} as Release;
  for (const t of RELEASE_TABLES) {
    const text = await readFile(path.join(dir, `${t}.${ext}`), "utf8");
    out[t] =
      ext === "json"
        ? (JSON.parse(text) as Row[])
        : text
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => JSON.parse(l) as Row);
  }
  return out;
}

/** RFC 4180 parser keeping the difference between an empty unquoted field (NULL) and `""`. */
function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  while (i < text.length) {
    let value: string | null;
    if (text[i] === '"') {
      let s = "";
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error("unterminated quoted field");
        s += text.slice(i, q);
        if (text[q + 1] === '"') {
          s += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      value = s;
    } else {
      let j = i;
      while (j < text.length && text[j] !== "," && text[j] !== "\n") j++;
      value = j === i ? null : text.slice(i, j);
      i = j;
    }
    row.push(value);
    if (text[i] === ",") i++;
    else if (text[i] === "\n" || i >= text.length) {
      rows.push(row);
      row = [];
      i++;
    } else throw new Error(`unexpected character ${JSON.stringify(text[i])} at ${i}`);
  }
  return rows;
}

/** The text a CSV field must hold for a JSON value (null = NULL). */
function csvText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Rows keyed by column names, whatever keys the release used. */
function byColumns(table: ReleaseTable, row: Row): Row {
  const out: Row = {};
  for (const [field, column] of RELEASE_COLUMNS[table]) {
    if (field in row) out[column] = row[field];
    else if (column in row) out[column] = row[column];
  }
  return out;
}

describe("planRelease", () => {
  it("should spread the total row count over the tables exactly", () => {
    for (const rows of [10, 37, 600, 1234, 4000, 5000, 11541, 50_000, 1_000_000, 5_000_000]) {
      const plan = planRelease(rows);
      const total = RELEASE_TABLES.reduce((n, t) => n + plan.counts[t], 0);
      expect(total, `rows=${rows}`).toBe(rows);
      expect(plan.counts.teams).toBe(plan.leagues * plan.teamsPerLeague);
      expect(plan.counts.players).toBe(plan.counts.teams * plan.playersPerTeam);
      expect(plan.counts.matches).toBeLessThanOrEqual(plan.leagues * plan.teamsPerLeague * (plan.teamsPerLeague - 1));
      expect(plan.counts.player_match_stats).toBeLessThanOrEqual(plan.counts.matches * 2 * plan.playersPerTeam);
    }
  });

  it("should use few leagues of ~20 teams of ~25 players and put most rows in player_match_stats", () => {
    const plan = planRelease(5_000_000);
    expect(plan.teamsPerLeague).toBe(20);
    expect(plan.playersPerTeam).toBe(25);
    expect(plan.counts.player_match_stats / plan.rows).toBeGreaterThan(0.9);
    expect(plan.counts.player_match_stats / plan.counts.matches).toBeGreaterThan(25);
    expect(planRelease(4000)).toMatchObject({ leagues: 3, teamsPerLeague: 20, playersPerTeam: 25 });
  });

  it("should reject a row count too small for a release", () => {
    expect(() => planRelease(9)).toThrow(/rows/);
    expect(() => planRelease(12.5)).toThrow(/rows/);
  });
});

describe("generateRelease", () => {
  let dir: string;
  let csvDir: string;
  let release: Release;

  beforeAll(async () => {
    const root = await tmp();
    dir = path.join(root, "json");
    csvDir = path.join(root, "csv");
    await generateRelease({ out: dir, rows: 3000, seed: 7, csvDir });
    release = await readJsonRelease(dir);
  });

  it("should produce byte-identical files for the same seed and different ones for another seed", async () => {
    const again = path.join(await tmp(), "again");
    await generateRelease({ out: again, rows: 3000, seed: 7 });
    const other = path.join(await tmp(), "other");
    await generateRelease({ out: other, rows: 3000, seed: 8 });
    for (const t of RELEASE_TABLES) {
      const a = await readFile(path.join(dir, `${t}.json`));
      expect((await readFile(path.join(again, `${t}.json`))).equals(a), t).toBe(true);
    }
    const a = await readFile(path.join(dir, "players.json"));
    expect((await readFile(path.join(other, "players.json"))).equals(a)).toBe(false);
  });

  it("should write as many rows per table as planned, summing to --rows", async () => {
    const plan = planRelease(3000);
    const counts = Object.fromEntries(RELEASE_TABLES.map((t) => [t, release[t].length]));
    expect(counts).toEqual(plan.counts);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(3000);
  });

  it("should resolve every foreign key and keep (playerId, matchId) unique with the player's team in the match", () => {
    const ids = (t: ReleaseTable) => new Set(release[t].map((r) => r.id));
    for (const t of RELEASE_TABLES) expect(ids(t).size, `unique ids in ${t}`).toBe(release[t].length);
    const leagues = ids("leagues");
    const teamLeague = new Map(release.teams.map((t) => [t.id, t.leagueId]));
    const playerTeam = new Map(release.players.map((p) => [p.id, p.teamId]));
    const matches = new Map(release.matches.map((m) => [m.id, m]));

    for (const t of release.teams) expect(leagues.has(t.leagueId)).toBe(true);
    for (const p of release.players) expect(teamLeague.has(p.teamId)).toBe(true);
    for (const m of release.matches) {
      expect(leagues.has(m.leagueId)).toBe(true);
      expect(teamLeague.get(m.homeTeamId)).toBe(m.leagueId);
      expect(teamLeague.get(m.awayTeamId)).toBe(m.leagueId);
      expect(m.homeTeamId).not.toBe(m.awayTeamId);
    }
    const pairs = new Set<string>();
    for (const s of release.player_match_stats) {
      const match = matches.get(s.matchId);
      expect(match, `match ${String(s.matchId)}`).toBeDefined();
      const team = playerTeam.get(s.playerId);
      expect(team, `player ${String(s.playerId)}`).toBeDefined();
      expect([match?.homeTeamId, match?.awayTeamId]).toContain(team);
      expect(["FINISHED", "LIVE"]).toContain(match?.status);
      const key = `${String(s.playerId)}/${String(s.matchId)}`;
      expect(pairs.has(key), key).toBe(false);
      pairs.add(key);
    }
    const external = release.players.map((p) => p.externalId).filter((v) => v !== null && v !== undefined);
    expect(new Set(external.map(String)).size).toBe(external.length);
  });

  it("should write values that exercise type fidelity", () => {
    const players = release.players;
    const stats = release.player_match_stats;
    const matches = release.matches;
    const big = players.map((p) => p.externalId).filter((v): v is string => typeof v === "string");
    expect(big.length).toBeGreaterThan(0);
    for (const v of big) expect(BigInt(v) > 2n ** 53n).toBe(true);
    expect(players.some((p) => typeof p.externalId === "number")).toBe(true);
    for (const p of players) {
      if (typeof p.marketValue === "string") expect(p.marketValue).toMatch(/^\d{1,12}\.\d{2}$/);
      if (typeof p.birthDate === "string") expect(p.birthDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(p.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(["GOALKEEPER", "DEFENDER", "MIDFIELDER", "FORWARD"]).toContain(p.position);
    }
    expect(players.some((p) => typeof p.attributes === "object" && p.attributes !== null)).toBe(true);
    for (const m of matches) {
      expect(m.kickoffAt).toMatch(/Z$/);
      if (typeof m.localKickoff === "string") expect(m.localKickoff).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/);
    }
    expect(new Set(matches.map((m) => m.status))).toEqual(new Set(["FINISHED", "LIVE", "SCHEDULED", "POSTPONED"]));
    const ratings = stats.map((s) => s.rating).filter((v): v is number => typeof v === "number");
    expect(ratings.length).toBeGreaterThan(0);
    for (const r of ratings) expect(Math.round(r * 100) / 100).toBe(r);
    // nullable fields: both an explicit null and an absent key occur
    for (const [table, field] of [
      ["teams", "shortName"],
      ["players", "birthDate"],
      ["players", "marketValue"],
      ["players", "attributes"],
      ["matches", "localKickoff"],
      ["player_match_stats", "rating"],
      ["player_match_stats", "distanceKm"],
    ] as const) {
      expect(
        release[table].some((r) => r[field] === null),
        `${table}.${field} null`,
      ).toBe(true);
      expect(
        release[table].some((r) => !(field in r)),
        `${table}.${field} absent`,
      ).toBe(true);
    }
  });

  it("should write the same rows as NDJSON", async () => {
    const nd = path.join(await tmp(), "nd");
    await generateRelease({ out: nd, rows: 3000, seed: 7, format: "ndjson" });
    expect(await readJsonRelease(nd, "ndjson")).toEqual(release);
  });

  it("should write the same rows as CSV with column-name headers and NULL as an empty unquoted field", async () => {
    for (const t of RELEASE_TABLES) {
      const [header, ...rows] = parseCsv(await readFile(path.join(csvDir, `${t}.csv`), "utf8"));
      const columns = RELEASE_COLUMNS[t].map(([, c]) => c);
      expect(header).toEqual(columns);
      expect(rows).toEqual(release[t].map((r) => RELEASE_COLUMNS[t].map(([field]) => csvText(r[field]))));
    }
    expect(csvField("")).toBe('""');
    expect(csvField(null)).toBe("");
    expect(csvField('a "b", c')).toBe('"a ""b"", c"');
  });

  it("should key rows by column names with keys: columns", async () => {
    const cols = path.join(await tmp(), "cols");
    await generateRelease({ out: cols, rows: 3000, seed: 7, keys: "columns" });
    const asColumns = await readJsonRelease(cols);
    for (const t of RELEASE_TABLES) {
      expect(asColumns[t]).toEqual(release[t].map((r) => byColumns(t, r)));
    }
    expect(Object.keys(asColumns.player_match_stats[0] ?? {})).toContain("minutes_played");
  });

  it("should be reproducible from a seed with mulberry32", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe("committed example releases", () => {
  const releases = [
    { name: "league-2026", rows: 4000, seed: 2026, keys: "fields" as const },
    { name: "league-2026-hotfix", rows: 600, seed: 2027, keys: "columns" as const },
  ];

  it.each(releases)("should match a fresh generation of $name byte for byte", async ({ name, rows, seed, keys }) => {
    const out = path.join(await tmp(), name);
    await generateRelease({ out, rows, seed, keys });
    for (const t of RELEASE_TABLES) {
      const committed = await readFile(path.join(REPO_ROOT, "etl", "releases", name, `${t}.json`));
      expect((await readFile(path.join(out, `${t}.json`))).equals(committed), `${name}/${t}.json`).toBe(true);
    }
  });

  it.each(releases)("should load $name into the migrated schema as it is", async ({ name }) => {
    const data = await readJsonRelease(path.join(REPO_ROOT, "etl", "releases", name));
    const db = await freshDatabase();
    const client = new pg.Client({ connectionString: db.url });
    client.on("error", () => {});
    await client.connect();
    try {
      for (const t of RELEASE_TABLES) {
        // json_populate_recordset casts every value with the column's own type input function
        await client.query(`INSERT INTO ${t} SELECT * FROM json_populate_recordset(NULL::${t}, $1::json)`, [
          JSON.stringify(data[t].map((r) => byColumns(t, r))),
        ]);
        const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`);
        expect(Number(rows[0]?.n), t).toBe(data[t].length);
      }
      const { rows } = await client.query<{ external_id: string; market_value: string; attributes: unknown }>(
        "SELECT external_id::text, market_value::text, attributes FROM players WHERE id = 1",
      );
      const p1 = byColumns("players", data.players[0] ?? {});
      expect(rows[0]?.external_id ?? null).toBe(p1.external_id == null ? null : String(p1.external_id));
      expect(rows[0]?.market_value ?? null).toBe(p1.market_value ?? null);
      expect(rows[0]?.attributes ?? null).toEqual(p1.attributes ?? null);
    } finally {
      await client.end().catch(() => {});
      await db.drop();
    }
  });
});
