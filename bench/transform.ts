/**
 * `npx tsx bench/transform.ts [--rows 1000000] [--runs 3]`: the cost of a per-table transform.
 * The same release (--rows rows over the example schema's five tables) is imported with no
 * transform and with a trivial one on every table (`(r) => r`: what a rename costs on top of
 * the framework), alternating, into freshly emptied tables, in ONE process and one database.
 * Reports the medians and the transform's share of the run; never asserts on time. Then,
 * because a whole run's noise on a shared machine is larger than the transform itself, the
 * transform's own cost: the release's files read in batches (as the loader reads them) with and
 * without the transform wrapper, alternating, no database.
 */
import path from "node:path";
import { AtomicEtl } from "../src/atomic-etl.js";
import { parseConfig } from "../src/config/load.js";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../etl/generated/prisma/client.js";
import type { TablePlan } from "../src/planner/table-plan.js";
import { readRecords } from "../src/sources/read-records.js";
import { transformBatches } from "../src/steps/transform.js";
import { arg, benchDatabase, benchRelease, emptyTables, median, TABLES } from "./support.js";

const MODELS = { leagues: "League", teams: "Team", players: "Player", matches: "Match", player_match_stats: "PlayerMatchStat" } as const;
const rows = Number(arg("rows", "1000000"));
const runs = Number(arg("runs", "3"));
/** --read-only: only the transform's own cost (no database runs). */
const readOnly = arg("read-only") === "true";

const db = await benchDatabase();
try {
  process.stderr.write(`generating a release of ${rows} rows…\n`);
  const rel = await benchRelease(rows);
  const identity = (r: Record<string, unknown>) => r;
  const tables = (transform: boolean) =>
    TABLES.map((t) => ({ model: MODELS[t], file: `${t}.json`, ...(transform ? { transform: identity } : {}) }));
  const etl = new AtomicEtl(
    parseConfig(
      {
        client: ({ url }: { url: string }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }),
        releases: { plain: { dir: rel.dir, tables: tables(false) }, transformed: { dir: rel.dir, tables: tables(true) } },
      },
      process.cwd(),
    ),
  );
  const ms: Record<string, number[]> = { plain: [], transformed: [] };
  for (let i = 0; i < (readOnly ? 0 : runs); i++) {
    for (const release of i % 2 ? ["transformed", "plain"] : ["plain", "transformed"]) {
      await emptyTables(db.url);
      const started = performance.now();
      const report = await etl.import({ release, url: db.url, backup: false, redeploy: true });
      const took = performance.now() - started;
      if (report.rows !== rows) throw new Error(`${release} loaded ${report.rows} rows, not ${rows}`);
      ms[release]?.push(took);
      process.stderr.write(`run ${i + 1} ${release}: ${Math.round(took)} ms\n`);
    }
  }
  const plain = median(ms.plain ?? []);
  const transformed = median(ms.transformed ?? []);
  const read = await readCost(rel.dir, runs);
  process.stdout.write(
    `${JSON.stringify({
      rows,
      runs,
      plainMs: Math.round(plain),
      transformedMs: Math.round(transformed),
      runShare: Number(((transformed - plain) / transformed).toFixed(4)),
      readMs: Math.round(read.plain),
      readTransformedMs: Math.round(read.transformed),
      transformMs: Math.round(read.transformed - read.plain),
      transformShareOfRun: Number(((read.transformed - read.plain) / plain).toFixed(4)),
    })}\n`,
  );
} finally {
  await db.stop();
}

/** Reading every file of the release in batches, with and without the identity transform (medians, ms). */
async function readCost(dir: string, n: number): Promise<{ plain: number; transformed: number }> {
  const identity = (r: Record<string, unknown>) => r;
  const once = async (transform: boolean) => {
    const started = performance.now();
    for (const t of TABLES) {
      const file = path.join(dir, `${t}.json`);
      const source = {
        name: t,
        mapping: { model: MODELS[t], duplicateKeys: "error" },
        entry: transform ? { transform: identity } : {},
        file: { file },
      };
      const batches = readRecords(file, { batchSize: 5000, label: file });
      for await (const b of transformBatches(source as unknown as TablePlan, batches)) void b;
    }
    return performance.now() - started;
  };
  const ms: { plain: number[]; transformed: number[] } = { plain: [], transformed: [] };
  for (let i = 0; i < n; i++) {
    for (const transform of i % 2 ? [true, false] : [false, true]) (transform ? ms.transformed : ms.plain).push(await once(transform));
  }
  return { plain: median(ms.plain), transformed: median(ms.transformed) };
}
