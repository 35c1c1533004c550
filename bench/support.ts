/**
 * Shared pieces of the benchmarks: a database to load into, the release to load, table
 * fingerprints, and medians. Every benchmark reports ratios measured in one run.
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { fingerprintTables, type Fingerprint } from "../src/db/fingerprint.js";
import { applyMigrations } from "../tools/migrations.js";
import { pgTx } from "../src/db/pg-client.js";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../tools/harness/throwaway-postgres.js";
import { generateRelease, RELEASE_TABLES } from "../scripts/release-generator.js";

export const TABLES = RELEASE_TABLES;

const MODELS = { leagues: "League", teams: "Team", players: "Player", matches: "Match", player_match_stats: "PlayerMatchStat" } as const;

/**
 * Writes an ETL config for release `bench` (the generated release in `releaseDir`) whose client
 * factory is `client` (TypeScript source), importing the repo's generated example client;
 * `backupDir` (default: `backups` beside the config) is where its runs put their backups.
 */
export async function writeBenchConfig(file: string, releaseDir: string, client: string, backupDir?: string): Promise<void> {
  const repo = process.cwd();
  await writeFile(
    file,
    `import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from ${JSON.stringify(path.join(repo, "etl/generated/prisma/client.ts"))};
export default {
  client: ${client},${backupDir ? `\n  backupDir: ${JSON.stringify(backupDir)},` : ""}
  releases: { bench: { dir: ${JSON.stringify(releaseDir)}, tables: [
    ${TABLES.map((t) => `{ model: ${JSON.stringify(MODELS[t])}, file: "${t}.json" }`).join(",\n    ")}
  ] } },
};
`,
  );
}

export interface BenchDb {
  url: string;
  cluster: ThrowawayPostgres | null;
  stop(): Promise<void>;
}

/** A throwaway cluster (or BENCH_DATABASE_URL) with the example schema migrated. */
export async function benchDatabase(): Promise<BenchDb> {
  const external = process.env.BENCH_DATABASE_URL;
  const cluster = external ? null : await startThrowawayPostgres();
  const url = external ?? (await cluster!.createDatabase("bench"));
  await applyMigrations(url, path.resolve("prisma/migrations"));
  return { url, cluster, stop: async () => cluster?.stop() };
}

/** Generates a release of `rows` rows (JSON with field or column keys, plus CSV) outside the repo. */
export async function benchRelease(
  rows: number,
  root?: string,
  keys: "fields" | "columns" = "fields",
): Promise<{ dir: string; csvDir: string }> {
  const base = root ?? (await mkdtemp(path.join(os.tmpdir(), "atomic-etl-bench-")));
  const dir = path.join(base, `release-${rows}-${keys}`);
  const csvDir = path.join(base, `csv-${rows}`);
  await mkdir(dir, { recursive: true });
  await generateRelease({ out: dir, rows, csvDir, keys });
  return { dir, csvDir };
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Empties the targets between runs (outside any timing) and resets their sequences. */
export async function emptyTables(url: string): Promise<void> {
  await withClient(url, (c) => c.query(`TRUNCATE ${TABLES.map((t) => `"${t}"`).join(", ")} RESTART IDENTITY`));
}

export async function fingerprints(url: string): Promise<Record<string, Fingerprint>> {
  return withClient(url, (c) =>
    fingerprintTables(
      pgTx(c),
      TABLES.map((name) => ({ schema: "public", name })),
    ),
  );
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith("--") ? "true" : v;
}
