/**
 * `npx tsx bench/merge.ts [--rows 1000000] [--runs 3]`: the merge strategy against a plain
 * replace (`direct`) of the same size, in ONE run, on the same database, through the runner
 * (`AtomicEtl.import`, no backup).
 *
 * The `players` table starts every timed run from the same stored state: 65% of `--rows`
 * keys (restored outside the timing, VACUUM ANALYZEd). Then
 * - merge: `--rows` records = 30% duplicates (older versions of other keys, interleaved),
 *   10% changed keys, 5% new keys, the rest identical to what is stored;
 * - replace: `--rows` records with distinct keys, loaded by `direct`.
 * Runs alternate; medians are reported with the merge/replace ratio and the merge counts
 * (checked against the plan: exits 1 when they differ). Data is written to a temp dir
 * (never into the repo). Never asserts on time: the machine may be shared and noisy.
 */
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import type { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../etl/generated/prisma/client.js";
import { parseConfig } from "../src/config/load.js";
import { AtomicEtl } from "../src/atomic-etl.js";
import type { RunReport } from "../src/reporting/report.js";
import { arg, benchDatabase, median, withClient } from "./support.js";

const rows = Number(arg("rows", "1000000"));
const runs = Number(arg("runs", "3"));
const unique = Math.round(rows * 0.7);
const stored = Math.round(rows * 0.65);
const changedFrom = stored - Math.round(rows * 0.1); // keys changedFrom+1 … stored change
const root = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-merge-bench-"));

const day = (d: number, id: number) => new Date(Date.UTC(2026, 0, 10 + d) + (id % 1000) * 1000).toISOString();
const player = (id: number, version: number) => ({
  id,
  teamId: 1 + (id % 1000),
  fullName: `player ${id}${version ? ` v${version}` : ""}`,
  position: "FORWARD",
  birthDate: new Date(Date.UTC(1990, 0, 1 + (id % 5000))).toISOString().slice(0, 10),
  heightCm: 150 + (id % 50),
  marketValue: ((id % 100_000) * 1.5).toFixed(2),
  externalId: String(id * 1000),
  attributes: { foot: "left", n: id % 7 },
  updatedAt: day(version, id),
});

/** Writes a JSON array of `count` records from `record(i)`. */
async function writeRelease(dir: string, count: number, record: (i: number) => object): Promise<string> {
  const file = path.join(dir, "players.json");
  const out = createWriteStream(file);
  out.write("[\n");
  for (let i = 0; i < count; i++) {
    if (!out.write(`${i ? ",\n" : ""}${JSON.stringify(record(i))}`)) await once(out, "drain");
  }
  out.end("\n]\n");
  await once(out, "finish");
  return dir;
}

async function main() {
  const db = await benchDatabase();
  try {
    process.stderr.write(`writing releases of ${rows} records to ${root}…\n`);
    const dir = (name: string) => path.join(root, name);
    for (const d of ["base", "merge", "replace"]) await mkdir(dir(d));
    await writeRelease(dir("base"), stored, (i) => player(i + 1, 0));
    // every 10th record: 3 duplicates (older versions of spread keys), then 7 keys in order
    await writeRelease(dir("merge"), rows, (i) => {
      const n = Math.floor(i / 10) * 7 + (i % 10) - 3;
      if (i % 10 < 3 || n >= unique) return player(1 + ((i * 7919) % unique), -1);
      const id = n + 1;
      return player(id, id > changedFrom && id <= stored ? 1 : 0);
    });
    await writeRelease(dir("replace"), rows, (i) => player(i + 1, 0));

    const players = { model: "Player", file: "players.json" };
    const config = parseConfig(
      {
        client: ({ adapter }: { adapter: PrismaPg }) => new PrismaClient({ adapter }),
        environments: { local: { batchSize: 5000 } },
        releases: {
          base: { dir: dir("base"), tables: [players] },
          merge: { dir: dir("merge"), tables: [{ ...players, mode: "merge", merge: { key: "id", order: "updatedAt desc" } }] },
          replace: { dir: dir("replace"), strategy: "direct", tables: [players] },
        },
      },
      root,
    );
    const etl = new AtomicEtl(config);
    // every run starts from a restored state the ledger may already record: run it anyway
    const load = (release: string) => etl.import({ release, url: db.url, backup: false, env: "local", redeploy: true });

    await withClient(db.url, async (c) => {
      await c.query("INSERT INTO leagues VALUES (1, 'L1', 'League', 'X', 2026)");
      await c.query("INSERT INTO teams SELECT g, 1, 'team ' || g, NULL, NULL FROM generate_series(1, 1000) g");
    });
    await load("base");
    await withClient(db.url, (c) => c.query("CREATE TABLE bench_players_base AS SELECT * FROM players"));
    const reset = () =>
      withClient(db.url, async (c) => {
        await c.query("TRUNCATE players, player_match_stats");
        await c.query("INSERT INTO players SELECT * FROM bench_players_base");
        await c.query("VACUUM ANALYZE players");
      });

    const samples: Record<"merge" | "replace", RunReport[]> = { merge: [], replace: [] };
    for (let i = 0; i < runs; i++) {
      for (const name of i % 2 ? (["replace", "merge"] as const) : (["merge", "replace"] as const)) {
        await reset();
        const r = await load(name);
        samples[name].push(r);
        process.stderr.write(`${name} run ${i + 1}: ${r.durationMs} ms ${JSON.stringify(r.tables[0]?.applied ?? {})}\n`);
      }
    }
    // re-run of the same merge release on its own result: must write nothing
    await reset();
    await load("merge");
    const rerun = await load("merge");

    const expected = {
      inserted: unique - stored,
      updated: stored - changedFrom,
      unchanged: changedFrom,
      deleted: 0,
      duplicatesInSource: rows - unique,
    };
    const applied = samples.merge.map((r) => r.tables[0]?.applied);
    const countsOk = applied.every((a) => a && Object.entries(expected).every(([k, v]) => a[k as keyof typeof expected] === v));
    const rerunOk = rerun.tables[0]?.applied?.inserted === 0 && rerun.tables[0]?.applied?.updated === 0;
    const ms = (name: "merge" | "replace") => median(samples[name].map((r) => r.durationMs));
    const phases = (name: "merge" | "replace") =>
      Object.fromEntries(
        Object.keys(samples[name][0]?.phases ?? {}).map((p) => [p, Math.round(median(samples[name].map((r) => r.phases[p] ?? 0)))]),
      );
    const report = {
      rows,
      runs,
      plan: { storedBefore: stored, ...expected },
      mergeMs: Math.round(ms("merge")),
      replaceMs: Math.round(ms("replace")),
      mergeRowsPerSecond: Math.round(rows / (ms("merge") / 1000)),
      replaceRowsPerSecond: Math.round(rows / (ms("replace") / 1000)),
      mergeOverReplace: Number((ms("merge") / ms("replace")).toFixed(2)),
      mergePhasesMs: phases("merge"),
      replacePhasesMs: phases("replace"),
      mergeCounts: applied[0],
      countsMatchPlan: countsOk,
      rerun: { ms: rerun.durationMs, applied: rerun.tables[0]?.applied },
      note: "medians of alternating runs on one machine; a shared machine makes single figures noisy",
    };
    console.log(JSON.stringify(report, null, 2));
    console.log(
      `${report.mergeOverReplace <= 1 ? "pass" : "miss"}  merge ≤ 1.0 × a direct replace of the same size (${report.mergeOverReplace}×)`,
    );
    if (!countsOk || !rerunOk) process.exitCode = 1;
  } finally {
    await db.stop();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
