/**
 * `npx tsx bench/backup-overlap.ts [--rows 1000000] [--runs 3] [--strategy staged-delete]`: the
 * backup lever of issue 13 (#16) for staged strategies, measured before building it. A staged
 * run touches only its TEMP staging tables until the final phase, so its backup could run
 * beside the staging load instead of before the transaction. Two ways, each replacing the
 * release the database holds, in one process, alternating:
 *
 * - `backup first (today)`: the import with its default backup (pg_dump, read-back, sha256,
 *   fingerprints) before the transaction;
 * - `backup beside the load`: the same import with `backup: false`, and the same `takeBackup`
 *   started as the transaction's first phase begins and awaited as the final phase (`apply`)
 *   begins, through the run's phase hook: what the lever would do. (This way also pays the
 *   preflight fingerprints a no-backup run takes, which the lever would take from the manifest:
 *   a bias against it.)
 *
 * Prints the medians and their ratio; checks that every run left the same rows (fingerprints).
 * Never asserts on time.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { PrismaPg } from "@prisma/adapter-pg";
import { AtomicEtl } from "../src/atomic-etl.js";
import { takeBackup } from "../src/backup/pg-dump.js";
import { parseConfig } from "../src/config/load.js";
import type { StrategyName } from "../src/config/schema.js";
import { PrismaClient } from "../etl/generated/prisma/client.js";
import { arg, benchDatabase, benchRelease, fingerprints, median, TABLES } from "./support.js";

const MODELS = { leagues: "League", teams: "Team", players: "Player", matches: "Match", player_match_stats: "PlayerMatchStat" } as const;
const rows = Number(arg("rows", "1000000"));
const runs = Number(arg("runs", "3"));
const strategy = (arg("strategy") ?? "staged-delete") as StrategyName;

const db = await benchDatabase();
const backupDir = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-overlap-"));
try {
  process.stderr.write(`generating a release of ${rows} rows…\n`);
  const rel = await benchRelease(rows);
  const etl = new AtomicEtl(
    parseConfig(
      {
        client: ({ adapter }: { adapter: PrismaPg }) => new PrismaClient({ adapter }),
        backupDir,
        environments: { local: { keepBackups: 2 } },
        releases: { bench: { dir: rel.dir, tables: TABLES.map((t) => ({ model: MODELS[t], file: `${t}.json` })) } },
      },
      process.cwd(),
    ),
  );
  const base = { release: "bench", url: db.url, strategy, redeploy: true } as const;
  await etl.import({ ...base, strategy: "direct", backup: false });
  const expected = await fingerprints(db.url);

  const ways: Record<string, () => Promise<void>> = {
    "backup first (today)": async () => {
      await etl.import(base);
    },
    "backup beside the load": async () => {
      let backup: Promise<unknown> | null = null;
      await etl.import({
        ...base,
        backup: false,
        hooks: {
          onPhase: async (phase) => {
            if (phase === "clear")
              backup = takeBackup({
                url: db.url,
                schema: "public",
                tables: [...TABLES],
                dir: backupDir,
                mode: "tables",
                environment: "local",
                release: "bench",
                releaseHash: null,
                runId: `overlap-${Date.now()}`,
              });
            if (phase === "apply") await backup;
          },
        },
      });
      if (!backup) throw new Error("the run never reached its clear phase: nothing was measured");
    },
  };
  const samples = new Map<string, number[]>();
  let same = true;
  for (let i = 0; i < runs; i++) {
    const order = i % 2 ? Object.entries(ways).reverse() : Object.entries(ways);
    for (const [name, run] of order) {
      process.stderr.write(`run ${i + 1}/${runs}: ${name}…\n`);
      const t0 = performance.now();
      await run();
      samples.set(name, [...(samples.get(name) ?? []), performance.now() - t0]);
      same &&= JSON.stringify(await fingerprints(db.url)) === JSON.stringify(expected);
    }
  }
  const [first, beside] = Object.keys(ways).map((n) => median(samples.get(n) ?? []));
  const table = Object.keys(ways).map((way) => ({ way, wallMs: Math.round(median(samples.get(way) ?? [])) }));
  console.table(table);
  console.log(
    JSON.stringify(
      { rows, runs, strategy, sameRows: same, besideOverFirst: Number(((beside ?? 0) / (first ?? 1)).toFixed(3)), table },
      null,
      2,
    ),
  );
} finally {
  await rm(backupDir, { recursive: true, force: true });
  await db.stop();
}
