/**
 * Deterministic generator of data releases for the example schema (prisma/schema.prisma).
 *
 * - Seeded (mulberry32): the same options give byte-identical files; no Math.random, no clock.
 * - Streams: rows are serialised and written in chunks (with backpressure), so releases of
 *   millions of rows never sit in memory. Only small per-match metadata (typed arrays) is kept.
 * - `rows` is the TOTAL across tables: a few leagues, ~20 teams per league, ~25 players per team,
 *   a double round-robin of matches, and the rest player_match_stats (see {@link planRelease}).
 * - Values exercise fidelity: Decimal as strings ("1234567.89") and numbers (7.25), BigInt beyond
 *   2^53 as strings, enums by value, nested JSON, `YYYY-MM-DD` dates, ISO timestamps with `Z`
 *   (timestamptz) and without zone (timestamp), nullables sometimes `null` and sometimes absent,
 *   non-ASCII text, commas and quotes.
 *
 * Output: `<out>/<table>.json` (a JSON array, one row per line) or `<table>.ndjson`, keys are
 * Prisma field names (`keys: "fields"`) or column names (`keys: "columns"`); optionally the same
 * rows as CSV (`<csvDir>/<table>.csv`, header of column names, NULL = empty unquoted field) for
 * COPY / pgloader baselines.
 *
 * The CLI wrapper is scripts/generate-release.ts.
 */
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";

// ---------------------------------------------------------------------------------------------
// Schema description (field name ↔ column name, in schema order)
// ---------------------------------------------------------------------------------------------

/** Tables of the example schema, in dependency (load) order. */
export const RELEASE_TABLES = ["leagues", "teams", "players", "matches", "player_match_stats"] as const;
export type ReleaseTable = (typeof RELEASE_TABLES)[number];

/** Prisma field name → column name for every scalar field, in schema order. */
export const RELEASE_COLUMNS: Record<ReleaseTable, readonly (readonly [field: string, column: string])[]> = {
  leagues: [
    ["id", "id"],
    ["code", "code"],
    ["name", "name"],
    ["country", "country"],
    ["season", "season"],
  ],
  teams: [
    ["id", "id"],
    ["leagueId", "league_id"],
    ["name", "name"],
    ["shortName", "short_name"],
    ["founded", "founded"],
  ],
  players: [
    ["id", "id"],
    ["teamId", "team_id"],
    ["fullName", "full_name"],
    ["position", "position"],
    ["birthDate", "birth_date"],
    ["heightCm", "height_cm"],
    ["marketValue", "market_value"],
    ["externalId", "external_id"],
    ["attributes", "attributes"],
    ["updatedAt", "updated_at"],
  ],
  matches: [
    ["id", "id"],
    ["leagueId", "league_id"],
    ["homeTeamId", "home_team_id"],
    ["awayTeamId", "away_team_id"],
    ["kickoffAt", "kickoff_at"],
    ["localKickoff", "local_kickoff"],
    ["status", "status"],
    ["homeGoals", "home_goals"],
    ["awayGoals", "away_goals"],
    ["attendance", "attendance"],
  ],
  player_match_stats: [
    ["id", "id"],
    ["playerId", "player_id"],
    ["matchId", "match_id"],
    ["minutesPlayed", "minutes_played"],
    ["goals", "goals"],
    ["assists", "assists"],
    ["rating", "rating"],
    ["distanceKm", "distance_km"],
    ["createdAt", "created_at"],
  ],
};

/** A generated row: field name → value; `undefined` = key absent from the output. */
export type ReleaseRow = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------------------------

/** mulberry32: a tiny, fast, seeded 32-bit PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Independent stream per (seed, purpose), so one table's draws never shift another's. */
function streamFor(seed: number, purpose: number): Rng {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(purpose + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return new Rng(mulberry32((h ^ (h >>> 16)) >>> 0));
}

class Rng {
  constructor(readonly next: () => number) {}
  /** Integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** `value`, or `null` (pNull), or absent (pAbsent). */
  maybe<T>(value: T, pNull = 0.06, pAbsent = 0.06): T | null | undefined {
    const r = this.next();
    if (r < pNull) return null;
    if (r < pNull + pAbsent) return undefined;
    return value;
  }
}

// ---------------------------------------------------------------------------------------------
// Row distribution
// ---------------------------------------------------------------------------------------------

/** How a total row count is spread over the tables. */
export interface ReleasePlan {
  rows: number;
  leagues: number;
  teamsPerLeague: number;
  playersPerTeam: number;
  /** Row count per table; sums to `rows`. */
  counts: Record<ReleaseTable, number>;
}

/** Rows of one full-size league: 1 + 20 teams + 500 players + 380 matches + 380 × 28 stats. */
const FULL_LEAGUE_ROWS = 1 + 20 + 20 * 25 + 380 + 380 * 28;

/**
 * Spread `rows` over the tables: `max(1, ceil(rows / 11541), min(3, floor(rows / 1200)))`
 * leagues of 20 teams × 25 players (fewer when the release is too small for that: teams+players
 * stay under ~45 % of the rows), a double round-robin of matches (each played match gets ≤ 2 ×
 * players-per-team stats, ~28 on average), the rest player_match_stats.
 *
 * @throws when `rows` is not an integer ≥ 10.
 */
export function planRelease(rows: number): ReleasePlan {
  if (!Number.isInteger(rows) || rows < 10) throw new Error(`rows must be an integer >= 10 (got ${rows})`);
  const leagues = Math.max(1, Math.ceil(rows / FULL_LEAGUE_ROWS), Math.min(3, Math.floor(rows / 1200)));
  let tpl = 20;
  let ppt = 25;
  const staticRows = () => leagues * (1 + tpl * (1 + ppt));
  const budget = rows * 0.45;
  while (staticRows() > budget && ppt > 14) ppt--;
  while (staticRows() > budget && tpl > 2) tpl -= 2;
  while (staticRows() > budget && ppt > 1) ppt--;
  const rest = rows - staticRows();
  const capacity = leagues * tpl * (tpl - 1);
  const perMatch = Math.min(28, 2 * ppt);
  let matches = Math.min(capacity, Math.max(1, Math.round(rest / (1 + perMatch))));
  while (rest - matches > matches * 2 * ppt && matches < capacity) matches++;
  const stats = rest - matches;
  if (rest < 1 || stats < 0 || stats > matches * 2 * ppt) throw new Error(`cannot lay out ${rows} rows`);
  return {
    rows,
    leagues,
    teamsPerLeague: tpl,
    playersPerTeam: ppt,
    counts: {
      leagues,
      teams: leagues * tpl,
      players: leagues * tpl * ppt,
      matches,
      player_match_stats: stats,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

interface Country {
  code: string;
  name: string;
  league: string;
  /** Local time offset from UTC in hours (for `local_kickoff`). */
  utcOffset: number;
}

const COUNTRIES: readonly Country[] = [
  { code: "ENG", name: "England", league: "Premier Division", utcOffset: 1 },
  { code: "ESP", name: "España", league: "Primera División", utcOffset: 2 },
  { code: "GER", name: "Deutschland", league: "Bundesliga", utcOffset: 2 },
  { code: "ITA", name: "Italia", league: "Serie A", utcOffset: 2 },
  { code: "FRA", name: "France", league: "Ligue 1", utcOffset: 2 },
  { code: "NED", name: "Nederland", league: "Eredivisie", utcOffset: 2 },
  { code: "POR", name: "Portugal", league: "Primeira Liga", utcOffset: 1 },
  { code: "BRA", name: "Brasil", league: "Série A", utcOffset: -3 },
  { code: "ARG", name: "Argentina", league: "Liga Profesional", utcOffset: -3 },
  { code: "JPN", name: "日本", league: "J1 League", utcOffset: 9 },
  { code: "USA", name: "United States", league: "Major League", utcOffset: -5 },
  { code: "TUR", name: "Türkiye", league: "Süper Lig", utcOffset: 3 },
  { code: "POL", name: "Polska", league: "Ekstraklasa", utcOffset: 2 },
  { code: "NOR", name: "Norge", league: "Eliteserien", utcOffset: 2 },
  { code: "MEX", name: "México", league: "Liga MX", utcOffset: -6 },
  { code: "KOR", name: "대한민국", league: "K League 1", utcOffset: 9 },
];

const CITIES = [
  "Northbridge",
  "Eastwick",
  "Porto Alegre",
  "Saint-Étienne",
  "Kraków",
  "Malmö",
  "Bilbao",
  "Nürnberg",
  "Ōsaka",
  "Coimbra",
  "Łódź",
  "São Paulo",
  "Zürich",
  "Göteborg",
  "Ipswich",
  "Valparaíso",
  "Trondheim",
  "İzmir",
  "Rosario",
  "Guadalajara",
  "Brugge",
  "Sevilla",
  "Ålesund",
  "Cluj",
  "Seongnam",
  "Kyiv",
];
const SUFFIXES = ["Rovers", "United", "Athletic", "FC", "City", "Wanderers", "Sporting", "Dynamo", "Racing", "Olympic"];
const FIRST = [
  "Zoë",
  "Łukasz",
  "José",
  "Mateo",
  "Søren",
  "Ádám",
  "Liam",
  "Noah",
  "Yūto",
  "Chloé",
  "Kwame",
  "Björn",
  "Luca",
  "Mohammed",
  "Tomás",
  "Ivan",
  "Seo-jun",
  "Aleksandr",
  "Élodie",
  "Emre",
  "Jan",
  "Diego",
  "Nils",
  "Ryō",
];
const LAST = [
  "O'Brien",
  "Müller",
  "Ødegaard",
  "García",
  "Nguyễn",
  "Kowalski",
  "Silva",
  "Dubois",
  "Rossi",
  "Yılmaz",
  "van der Berg",
  "Smith",
  "Tanaka",
  "Novák",
  "Petrov",
  "Kim",
  "Fernández",
  "de Jong",
  "Łapiński",
  "Mensah",
  'Santos "Junior"',
  "MacAllister",
  "Håland",
  "Çelik",
];
const FEET = ["left", "right", "both"];
const TRAITS = ["leader", "playmaker", "poacher", "sweeper", "set-piece", "engine", "dribbler", "aerial"];
type Position = "GOALKEEPER" | "DEFENDER" | "MIDFIELDER" | "FORWARD";

const DAY_MS = 86_400_000;
const TWO_POW_53 = 9007199254740992n;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** `YYYY-MM-DD` of a UTC epoch-ms value. */
function isoDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** ISO timestamp with `Z` (timestamptz). */
function isoZ(ms: number): string {
  return new Date(ms).toISOString();
}

/** ISO timestamp without zone (timestamp without time zone): wall-clock `ms` as if it were UTC. */
function isoLocal(ms: number): string {
  return new Date(ms).toISOString().slice(0, -1);
}

/** Decimal string with 2 fraction digits from an integer number of cents. */
function cents(value: number): string {
  return `${Math.floor(value / 100)}.${pad(value % 100)}`;
}

function positionOf(index: number, ppt: number): Position {
  // ~12 % goalkeepers, ~33 % defenders, ~33 % midfielders, rest forwards
  const f = index / ppt;
  if (index === 0 || f < 0.12) return "GOALKEEPER";
  if (f < 0.45) return "DEFENDER";
  if (f < 0.78) return "MIDFIELDER";
  return "FORWARD";
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

/** Buffered writer with backpressure; writes to `<file>.partial` and renames on close. */
class ChunkWriter {
  private readonly stream: WriteStream;
  private buffer: string[] = [];
  private size = 0;
  private failure: Error | undefined;

  constructor(
    readonly file: string,
    private readonly chunkSize = 1 << 20,
  ) {
    this.stream = createWriteStream(`${file}.partial`, { encoding: "utf8" });
    this.stream.on("error", (e) => {
      this.failure = e;
    });
  }

  async write(text: string): Promise<void> {
    this.buffer.push(text);
    this.size += text.length;
    if (this.size >= this.chunkSize) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join("");
    this.buffer = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await once(this.stream, "drain");
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
    if (this.failure) throw this.failure;
    await rename(`${this.file}.partial`, this.file);
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await rm(`${this.file}.partial`, { force: true });
  }
}

/** One CSV field: NULL → empty unquoted; strings quoted when needed (always when empty). */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") text = String(value);
  else text = JSON.stringify(value);
  if (text === "" || /[",\r\n]/.test(text) || text.trim() !== text) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

class TableOutput {
  private count = 0;
  private readonly main: ChunkWriter;
  private readonly csv: ChunkWriter | undefined;

  constructor(
    readonly table: ReleaseTable,
    private readonly format: "json" | "ndjson",
    private readonly keys: "fields" | "columns",
    outDir: string,
    csvDir: string | undefined,
  ) {
    this.main = new ChunkWriter(path.join(outDir, `${table}.${format}`));
    this.csv = csvDir ? new ChunkWriter(path.join(csvDir, `${table}.csv`)) : undefined;
  }

  get files(): { main: string; csv: string | undefined } {
    return { main: this.main.file, csv: this.csv?.file };
  }

  async open(): Promise<void> {
    if (this.format === "json") await this.main.write("[");
    if (this.csv) await this.csv.write(`${RELEASE_COLUMNS[this.table].map(([, c]) => csvField(c)).join(",")}\n`);
  }

  async row(row: ReleaseRow): Promise<void> {
    const out: Record<string, unknown> = {};
    for (const [field, column] of RELEASE_COLUMNS[this.table]) {
      const v = row[field];
      if (v !== undefined) out[this.keys === "fields" ? field : column] = v;
    }
    const json = JSON.stringify(out);
    if (this.format === "json") await this.main.write(this.count === 0 ? `\n${json}` : `,\n${json}`);
    else await this.main.write(`${json}\n`);
    if (this.csv) await this.csv.write(`${RELEASE_COLUMNS[this.table].map(([f]) => csvField(row[f])).join(",")}\n`);
    this.count++;
  }

  async close(): Promise<number> {
    if (this.format === "json") await this.main.write(this.count === 0 ? "]\n" : "\n]\n");
    await this.main.close();
    await this.csv?.close();
    return this.count;
  }

  async abort(): Promise<void> {
    await this.main.abort();
    await this.csv?.abort();
  }
}

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

/** Options of {@link generateRelease}. */
export interface GenerateReleaseOptions {
  /** Output directory of the release (created if missing). */
  out: string;
  /** Total number of rows across all tables (≥ 10). */
  rows: number;
  /** PRNG seed (default 2026). */
  seed?: number;
  /** Season of the newest leagues (default 2026); bigger releases add earlier seasons. */
  season?: number;
  /** `json` (array, default) or `ndjson`. */
  format?: "json" | "ndjson";
  /** Also write `<csvDir>/<table>.csv`. */
  csvDir?: string;
  /** Object keys: Prisma field names (`fields`, default) or column names (`columns`). */
  keys?: "fields" | "columns";
}

/** What {@link generateRelease} wrote. */
export interface GenerateReleaseResult {
  plan: ReleasePlan;
  /** Rows written per table (equals `plan.counts`). */
  counts: Record<ReleaseTable, number>;
  /** Release files, in load order. */
  files: string[];
  /** CSV files, in load order (empty without `csvDir`). */
  csvFiles: string[];
}

const STATUS_FINISHED = 0;
const STATUS_LIVE = 1;
const STATUS_SCHEDULED = 2;
const STATUS_POSTPONED = 3;
const STATUS_NAMES = ["FINISHED", "LIVE", "SCHEDULED", "POSTPONED"] as const;

/**
 * Generate a release for the example schema and stream it to disk.
 *
 * @example
 * await generateRelease({ out: "etl/releases/league-2026", rows: 4000, seed: 2026 });
 */
export async function generateRelease(opts: GenerateReleaseOptions): Promise<GenerateReleaseResult> {
  const seed = opts.seed ?? 2026;
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer (got ${seed})`);
  const newestSeason = opts.season ?? 2026;
  if (!Number.isInteger(newestSeason) || newestSeason < 1900 || newestSeason > 9999) {
    throw new Error(`season must be a year (got ${newestSeason})`);
  }
  const format = opts.format ?? "json";
  const keys = opts.keys ?? "fields";
  const plan = planRelease(opts.rows);
  const { leagues: L, teamsPerLeague: tpl, playersPerTeam: ppt } = plan;
  const M = plan.counts.matches;
  const S = plan.counts.player_match_stats;

  await mkdir(opts.out, { recursive: true });
  if (opts.csvDir) await mkdir(opts.csvDir, { recursive: true });
  // a release holds one format: drop files of the other one left by an earlier run
  const other = format === "json" ? "ndjson" : "json";
  for (const t of RELEASE_TABLES) await rm(path.join(opts.out, `${t}.${other}`), { force: true });

  const outputs = new Map<ReleaseTable, TableOutput>();
  for (const t of RELEASE_TABLES) outputs.set(t, new TableOutput(t, format, keys, opts.out, opts.csvDir));
  const output = (t: ReleaseTable) => outputs.get(t) as TableOutput;
  const counts = {} as Record<ReleaseTable, number>;

  const leagueCountry = (l: number) => COUNTRIES[l % COUNTRIES.length] as Country;
  const leagueSeason = (l: number) => newestSeason - Math.floor(l / (COUNTRIES.length * 3));

  try {
    // ---- leagues -------------------------------------------------------------------------
    {
      const out = output("leagues");
      await out.open();
      for (let l = 0; l < L; l++) {
        const c = leagueCountry(l);
        const tier = (Math.floor(l / COUNTRIES.length) % 3) + 1;
        const season = leagueSeason(l);
        await out.row({
          id: l + 1,
          code: `${c.code}${tier}-${season}`,
          name: tier === 1 ? c.league : `${c.league} ${tier === 2 ? "II" : "III"}`,
          country: c.name,
          season,
        });
      }
      counts.leagues = await out.close();
    }

    // ---- teams ---------------------------------------------------------------------------
    {
      const rng = streamFor(seed, 1);
      const out = output("teams");
      await out.open();
      for (let t = 0; t < L * tpl; t++) {
        const city = rng.pick(CITIES);
        const suffix = rng.pick(SUFFIXES);
        // some names carry a comma or quotes: CSV quoting and JSON escaping get exercised
        const name = rng.chance(0.05) ? `${city} ${suffix}, ${t + 1}` : `${city} ${suffix} ${t + 1}`;
        const short = `${city
          .replace(/[^A-Za-z]/g, "")
          .slice(0, 3)
          .toUpperCase()}${(t + 1) % 1000}`.slice(0, 10);
        await out.row({
          id: t + 1,
          leagueId: Math.floor(t / tpl) + 1,
          name,
          shortName: rng.maybe(short, 0.1, 0.1),
          founded: rng.maybe(rng.int(1857, 2019), 0.08, 0.08),
        });
      }
      counts.teams = await out.close();
    }

    // ---- players -------------------------------------------------------------------------
    {
      const rng = streamFor(seed, 2);
      const out = output("players");
      await out.open();
      const epoch1984 = Date.UTC(1984, 0, 1);
      const updatedBase = Date.UTC(newestSeason - 1, 6, 1);
      for (let p = 0; p < L * tpl * ppt; p++) {
        const id = p + 1;
        const position = positionOf(p % ppt, ppt);
        const heightBase = position === "GOALKEEPER" ? 188 : 178;
        let marketValue: string;
        if (id % 997 === 0)
          marketValue = "999999999999.99"; // DECIMAL(14,2) maximum
        else if (rng.chance(0.03)) marketValue = "0.00";
        else marketValue = cents(rng.int(5_000_000, 12_000_000_000) + (rng.chance(0.5) ? 0 : rng.int(1, 99)));
        // BigInt: beyond 2^53 as strings for some rows, small ones as plain numbers
        let externalId: string | number;
        if (rng.chance(0.3)) externalId = (TWO_POW_53 + BigInt(id) * 7919n + 1n).toString();
        else externalId = 1_000_000 + id;
        const attributes = {
          foot: rng.pick(FEET),
          traits: [rng.pick(TRAITS), rng.pick(TRAITS)].filter((v, i, a) => a.indexOf(v) === i),
          ratings: { pace: rng.int(40, 99), shooting: rng.int(30, 99), passing: rng.int(35, 99) },
          contract: { until: `${newestSeason + rng.int(0, 5)}-06-30`, releaseClause: rng.chance(0.3) ? null : rng.int(1, 500) * 1e6 },
          nickname: rng.chance(0.1) ? `"${rng.pick(LAST)}", the ${rng.pick(TRAITS)}` : undefined,
        };
        await out.row({
          id,
          teamId: Math.floor(p / ppt) + 1,
          fullName: `${rng.pick(FIRST)} ${rng.pick(LAST)}`,
          position,
          birthDate: rng.maybe(isoDate(epoch1984 + rng.int(0, 20 * 365) * DAY_MS)),
          heightCm: rng.maybe(heightBase + rng.int(-14, 14)),
          marketValue: rng.maybe(marketValue),
          externalId: rng.maybe(externalId, 0.05, 0.05),
          attributes: rng.maybe(attributes, 0.08, 0.07),
          updatedAt: isoZ(updatedBase + rng.int(0, 180 * 86_400) * 1000 + rng.int(0, 999)),
        });
      }
      counts.players = await out.close();
    }

    // ---- match schedule (in memory: a few typed arrays) -----------------------------------
    const matchLeague = new Int32Array(M);
    const matchHome = new Int32Array(M);
    const matchAway = new Int32Array(M);
    const matchRound = new Int32Array(M);
    const matchSlot = new Int32Array(M);
    const matchStatus = new Uint8Array(M);
    const homeGoals = new Int8Array(M);
    const awayGoals = new Int8Array(M);
    const kickoff = new Float64Array(M);
    {
      const rng = streamFor(seed, 3);
      const perRound = tpl / 2;
      const base = Math.floor(M / L);
      let m = 0;
      for (let l = 0; l < L; l++) {
        const ml = base + (l < M % L ? 1 : 0);
        const firstTeam = l * tpl + 1;
        // circle method: team 0 fixed, the others rotate; second half mirrors with home/away swapped
        const ring = Array.from({ length: tpl }, (_, i) => i);
        const rounds = Math.ceil(ml / perRound);
        let made = 0;
        for (let r = 0; r < rounds && made < ml; r++) {
          const half = r % (tpl - 1);
          const rot = [ring[0] as number, ...ring.slice(1).map((_, i) => ring[1 + ((i + half) % (tpl - 1))] as number)];
          for (let i = 0; i < perRound && made < ml; i++) {
            let home = rot[i] as number;
            let away = rot[tpl - 1 - i] as number;
            // alternate the fixed team's venue; the second leg (rounds ≥ tpl-1) swaps every pairing
            if ((i === 0 && half % 2 === 1) !== r >= tpl - 1) [home, away] = [away, home];
            matchLeague[m] = l;
            matchHome[m] = firstTeam + home;
            matchAway[m] = firstTeam + away;
            matchRound[m] = r;
            matchSlot[m] = i;
            // the last scheduled round of a league with ≥ 3 rounds is still to be played
            if (rounds >= 3 && r === rounds - 1) matchStatus[m] = i === 0 ? STATUS_LIVE : STATUS_SCHEDULED;
            // every league with a second round has one postponed match, plus a few random ones
            else if (r === 1 && i === perRound - 1) matchStatus[m] = STATUS_POSTPONED;
            else matchStatus[m] = rng.chance(0.015) ? STATUS_POSTPONED : STATUS_FINISHED;
            m++;
            made++;
          }
        }
      }
      // enough played matches for the stats (each holds at most 2 × players-per-team)
      let played = 0;
      for (let i = 0; i < M; i++) if (matchStatus[i] === STATUS_FINISHED || matchStatus[i] === STATUS_LIVE) played++;
      for (let i = 0; i < M && played * 2 * ppt < S; i++) {
        if (matchStatus[i] === STATUS_SCHEDULED || matchStatus[i] === STATUS_POSTPONED) {
          matchStatus[i] = STATUS_FINISHED;
          played++;
        }
      }
    }

    // ---- matches -------------------------------------------------------------------------
    {
      const rng = streamFor(seed, 4);
      const out = output("matches");
      await out.open();
      const hours = [12.5, 15, 17.5, 20];
      for (let i = 0; i < M; i++) {
        const l = matchLeague[i] as number;
        const c = leagueCountry(l);
        const seasonStart = Date.UTC(leagueSeason(l) - 1, 7, 8);
        const hour = hours[(matchSlot[i] as number) % hours.length] as number;
        const day = (matchRound[i] as number) * 7 + ((matchSlot[i] as number) % 3);
        const ko = seasonStart + day * DAY_MS + hour * 3_600_000 + (rng.chance(0.02) ? rng.int(1, 999) : 0);
        kickoff[i] = ko;
        const status = matchStatus[i] as number;
        const played = status === STATUS_FINISHED || status === STATUS_LIVE;
        const hg = played ? Math.min(9, Math.floor(-Math.log(1 - rng.next()) * 1.5)) : -1;
        const ag = played ? Math.min(9, Math.floor(-Math.log(1 - rng.next()) * 1.2)) : -1;
        homeGoals[i] = hg;
        awayGoals[i] = ag;
        await out.row({
          id: i + 1,
          leagueId: l + 1,
          homeTeamId: matchHome[i],
          awayTeamId: matchAway[i],
          kickoffAt: isoZ(ko),
          localKickoff: rng.maybe(isoLocal(ko + c.utcOffset * 3_600_000), 0.05, 0.05),
          status: STATUS_NAMES[status],
          homeGoals: played ? hg : rng.chance(0.5) ? null : undefined,
          awayGoals: played ? ag : rng.chance(0.5) ? null : undefined,
          attendance: played ? rng.maybe(rng.int(800, 81_000), 0.05, 0.05) : undefined,
        });
      }
      counts.matches = await out.close();
    }

    // ---- player_match_stats ---------------------------------------------------------------
    {
      const rng = streamFor(seed, 5);
      const out = output("player_match_stats");
      await out.open();
      const playedIdx: number[] = [];
      for (let i = 0; i < M; i++) {
        if (matchStatus[i] === STATUS_FINISHED || matchStatus[i] === STATUS_LIVE) playedIdx.push(i);
      }
      const base = playedIdx.length === 0 ? 0 : Math.floor(S / playedIdx.length);
      const extra = playedIdx.length === 0 ? 0 : S % playedIdx.length;
      const roster = new Int32Array(ppt);
      let id = 0;
      for (let j = 0; j < playedIdx.length; j++) {
        const i = playedIdx[j] as number;
        const k = base + (j < extra ? 1 : 0);
        const kh = Math.min(ppt, Math.ceil(k / 2));
        const sides: [team: number, n: number, goals: number][] = [
          [matchHome[i] as number, kh, homeGoals[i] as number],
          [matchAway[i] as number, k - kh, awayGoals[i] as number],
        ];
        const live = matchStatus[i] === STATUS_LIVE;
        for (const [team, n, teamGoals] of sides) {
          if (n === 0) continue;
          // n distinct players of this team: a partial Fisher–Yates shuffle of its roster
          const firstPlayer = (team - 1) * ppt + 1;
          for (let r = 0; r < ppt; r++) roster[r] = firstPlayer + r;
          for (let r = 0; r < n; r++) {
            const s = r + Math.floor(rng.next() * (ppt - r));
            const tmp = roster[r] as number;
            roster[r] = roster[s] as number;
            roster[s] = tmp;
          }
          const goals = new Array<number>(n).fill(0);
          const assists = new Array<number>(n).fill(0);
          for (let g = 0; g < Math.max(0, teamGoals); g++) {
            const scorer = rng.int(0, n - 1);
            goals[scorer] = (goals[scorer] as number) + 1;
            if (n > 1 && rng.chance(0.7)) {
              const a = (scorer + rng.int(1, n - 1)) % n;
              assists[a] = (assists[a] as number) + 1;
            }
          }
          for (let r = 0; r < n; r++) {
            const starter = r < 11;
            let minutes = starter ? (rng.chance(0.7) ? 90 : rng.int(46, 89)) : rng.int(1, 44);
            if (live) minutes = Math.max(1, Math.min(minutes, 60));
            await out.row({
              id: ++id,
              playerId: roster[r],
              matchId: i + 1,
              minutesPlayed: minutes,
              goals: goals[r],
              assists: assists[r],
              rating: rng.maybe(rng.int(300, 1000) / 100, 0.06, 0.06),
              distanceKm: rng.maybe(
                rng.chance(0.02) ? (minutes / 90) * 10 + rng.next() : Math.round((minutes / 90) * rng.int(6000, 13500)) / 1000,
                0.05,
                0.05,
              ),
              createdAt: isoZ((kickoff[i] as number) + 2 * 3_600_000 + rng.int(0, 3_599_999)),
            });
          }
        }
      }
      counts.player_match_stats = await out.close();
    }
  } catch (error) {
    for (const o of outputs.values()) await o.abort().catch(() => {});
    throw error;
  }

  for (const t of RELEASE_TABLES) {
    if (counts[t] !== plan.counts[t]) throw new Error(`internal: ${t} has ${counts[t]} rows, planned ${plan.counts[t]}`);
  }
  const files = RELEASE_TABLES.map((t) => output(t).files.main);
  const csvFiles = opts.csvDir ? RELEASE_TABLES.map((t) => output(t).files.csv as string) : [];
  return { plan, counts, files, csvFiles };
}
