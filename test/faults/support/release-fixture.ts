/**
 * Deterministic example releases for the fault tests: variant "A" and "B" differ in every
 * table (names, values and row counts), so a database state is exactly one of them, or a
 * partial mix that the tests must never find.
 *
 * @example
 * await writeRelease(path.join(dir, "A"), "A", { teams: 20 });
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

export type Variant = "A" | "B";

export interface ReleaseSize {
  /** Teams per league (2 leagues; 3 for variant B). */
  teams: number;
  /** Players per team. */
  players: number;
  /** Stat lines per match (capped by the players of the two teams). */
  statsPerMatch: number;
  /** Rows of the self-referencing `fault_categories` table (moved in the final phase). */
  categories: number;
}

export const SMALL: ReleaseSize = { teams: 4, players: 5, statsPerMatch: 6, categories: 50 };
/** Big enough that load, validation and the final phase take a measurable time. */
export const MEDIUM: ReleaseSize = { teams: 10, players: 22, statsPerMatch: 22, categories: 6_000 };

/** Tables of the release in load order, with their file names. */
export const RELEASE_FILES = [
  { model: "League", file: "leagues.json" },
  { model: "Team", file: "teams.json" },
  { model: "Player", file: "players.json" },
  { model: "Match", file: "matches.json" },
  { model: "PlayerMatchStat", file: "player_match_stats.json" },
  { table: "fault_categories", file: "fault_categories.ndjson" },
] as const;

/** DDL of the extra self-referencing table the releases also load (not a Prisma model). */
export const FAULT_CATEGORIES_DDL = `CREATE TABLE IF NOT EXISTS fault_categories (
  id integer PRIMARY KEY,
  parent_id integer REFERENCES fault_categories(id),
  name text NOT NULL
)`;

const POSITIONS = ["GOALKEEPER", "DEFENDER", "MIDFIELDER", "FORWARD"] as const;

/** The records of every table of a release, keyed by file name. */
export function releaseRecords(variant: Variant, size: ReleaseSize): Record<string, Record<string, unknown>[]> {
  const v = variant === "A" ? 0 : 1;
  const leagues = Array.from({ length: 2 + v }, (_, i) => ({
    id: i + 1,
    code: `L${variant}${i + 1}`,
    name: `League ${i + 1} (${variant})`,
    country: i % 2 ? "Spain" : "England",
    season: 2025 + v,
  }));
  const teams: Record<string, unknown>[] = [];
  const players: Record<string, unknown>[] = [];
  const matches: Record<string, unknown>[] = [];
  const stats: Record<string, unknown>[] = [];
  for (const l of leagues) {
    const ids: number[] = [];
    for (let t = 0; t < size.teams; t++) {
      const id = l.id * 1000 + t;
      ids.push(id);
      teams.push({ id, leagueId: l.id, name: `Team ${id} ${variant}`, shortName: `T${id % 10_000}`, founded: 1880 + ((id + v) % 120) });
      for (let p = 0; p < size.players; p++) {
        const pid = id * 100 + p;
        players.push({
          id: pid,
          teamId: id,
          fullName: `Player ${pid} ${variant}`,
          position: POSITIONS[(p + v) % 4],
          birthDate: `${1990 + (pid % 15)}-0${1 + (pid % 9)}-1${pid % 10}`,
          heightCm: 165 + ((pid + v) % 40),
          marketValue: `${(pid * 7 + v) % 100_000}.${String(pid % 100).padStart(2, "0")}`,
          externalId: String(9_007_199_254_740_993n + BigInt(pid)),
          attributes: { foot: p % 2 ? "left" : "right", v: variant },
          updatedAt: `2026-0${1 + v}-01T10:00:00.${String(pid % 1000).padStart(3, "0")}Z`,
        });
      }
    }
    for (let h = 0; h < ids.length; h++) {
      for (let a = 0; a < ids.length; a++) {
        if (h === a || (h + a + v) % 3 !== 0) continue;
        const mid = l.id * 100_000 + h * 100 + a;
        const home = ids[h] as number;
        const away = ids[a] as number;
        matches.push({
          id: mid,
          leagueId: l.id,
          homeTeamId: home,
          awayTeamId: away,
          kickoffAt: `2026-03-${String(1 + (mid % 28)).padStart(2, "0")}T18:30:00Z`,
          localKickoff: `2026-03-${String(1 + (mid % 28)).padStart(2, "0")}T19:30:00`,
          status: v ? "SCHEDULED" : "FINISHED",
          homeGoals: (mid + v) % 5,
          awayGoals: mid % 3,
          attendance: 10_000 + (mid % 50_000),
        });
        for (let s = 0; s < size.statsPerMatch && s < 2 * size.players; s++) {
          const team = s % 2 ? away : home;
          const playerId = team * 100 + Math.floor(s / 2);
          stats.push({
            id: stats.length + 1 + v * 1_000_000,
            playerId,
            matchId: mid,
            minutesPlayed: 45 + ((s + v) % 46),
            goals: (s + mid) % 2,
            assists: (s + v) % 3,
            rating: `${5 + (s % 5)}.${(mid + v) % 10}0`,
            distanceKm: 8 + (s % 5) / 2,
            createdAt: "2026-04-01T00:00:00.000Z",
          });
        }
      }
    }
  }
  const categories = Array.from({ length: size.categories + v * 7 }, (_, i) => ({
    id: i + 1,
    // a parent further down the file: only a set-based load satisfies the FK
    parent_id: i === 0 ? null : ((i * 7919) % size.categories) + 1 === i + 1 ? null : ((i * 7919) % size.categories) + 1,
    name: `cat ${i + 1} ${variant}`,
  }));
  return {
    "leagues.json": leagues,
    "teams.json": teams,
    "players.json": players,
    "matches.json": matches,
    "player_match_stats.json": stats,
    "fault_categories.ndjson": categories,
  };
}

/** Writes a release's files into `dir`; returns the number of rows per file. */
export async function writeRelease(dir: string, variant: Variant, size: ReleaseSize): Promise<Record<string, number>> {
  await mkdir(dir, { recursive: true });
  const out: Record<string, number> = {};
  for (const [file, rows] of Object.entries(releaseRecords(variant, size))) {
    const text = file.endsWith(".ndjson")
      ? rows.map((r) => JSON.stringify(r)).join("\n") + "\n"
      : `[\n${rows.map((r) => JSON.stringify(r)).join(",\n")}\n]\n`;
    await writeFile(path.join(dir, file), text);
    out[file] = rows.length;
  }
  return out;
}
