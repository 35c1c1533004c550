/**
 * The fixed cost of a run: what every invocation pays whatever its size (starting Node, loading
 * the CLI and the config, connecting, the catalog, the ledger, the backup's pg_dump and
 * verification), measured as whole processes of the built CLI: `--help` (which loads no
 * command, as `--version`), and an import of a 50-row release with and without its backup.
 * Medians of wall and CPU milliseconds.
 *
 *   npm run bench:fixed-cost -- [--runs 5] [--rows 100000]
 *
 * `npm run bench` prints the same table after its throughput table. With `--rows`, the import of
 * a release that size is timed too, and the table says what share of it the fixed cost is.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { arg, benchDatabase, benchRelease, emptyTables, median, TABLES } from "./support.js";

const MODELS = { leagues: "League", teams: "Team", players: "Player", matches: "Match", player_match_stats: "PlayerMatchStat" } as const;

export interface FixedCostRow {
  command: string;
  wallMs: number;
  cpuMs: number | null;
  /** The import's fixed cost (the 50-row import) as a share of this run's wall time. */
  fixedShare?: number;
}

/** Wall and CPU (user + sys, from /usr/bin/time where it exists) of one process. */
async function timedRun(cmd: string, args: string[], env: Record<string, string>): Promise<{ wallMs: number; cpuMs: number | null }> {
  const useTime = process.platform === "linux" && (await execa("test", ["-x", "/usr/bin/time"], { reject: false })).exitCode === 0;
  const started = performance.now();
  const r = await execa(useTime ? "/usr/bin/time" : cmd, useTime ? ["-f", "CPU_S %U %S", cmd, ...args] : args, {
    env,
    reject: false,
    stdin: "ignore",
  });
  const wallMs = performance.now() - started;
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(" ")} failed (${r.exitCode}): ${r.stderr.slice(-1500)}`);
  const m = /CPU_S ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wallMs, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : null };
}

/** A config with release `fixed` over `dir`, inside the repo so that it resolves the project's node_modules. */
async function writeConfig(repo: string, name: string, dir: string): Promise<string> {
  await mkdir(path.join(repo, "bench/data"), { recursive: true });
  const file = path.join(repo, `bench/data/${name}-${process.pid}.config.ts`);
  await writeFile(
    file,
    `import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from ${JSON.stringify(path.join(repo, "etl/generated/prisma/client.ts"))};
export default {
  client: ({ url }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }),
  backupDir: ${JSON.stringify(path.join(path.dirname(dir), "backups"))},
  releases: { fixed: { dir: ${JSON.stringify(dir)}, tables: [
    ${TABLES.map((t) => `{ model: ${JSON.stringify(MODELS[t])}, file: "${t}.json" }`).join(",\n    ")}
  ] } },
};
`,
  );
  return file;
}

/**
 * Times the fixed cost of the CLI (`cli`: the node arguments that run it) against `url`,
 * `runs` times each, in alternating order; with `sizedRows`, also an import of that many rows.
 *
 * @example const rows = await measureFixedCost({ repo, root, url, cli: ["dist/cli/main.js"], runs: 5 })
 */
export async function measureFixedCost(o: {
  repo: string;
  root: string;
  url: string;
  cli: string[];
  runs: number;
  sizedRows?: number;
}): Promise<FixedCostRow[]> {
  const tiny = await writeConfig(o.repo, "fixed-tiny", (await benchRelease(50, o.root)).dir);
  const sized = o.sizedRows ? await writeConfig(o.repo, `fixed-${o.sizedRows}`, (await benchRelease(o.sizedRows, o.root)).dir) : null;
  const env = { ...process.env, DATABASE_URL: o.url, ATOMIC_ETL_LOG_LEVEL: "warn" } as Record<string, string>;
  const node = process.execPath;
  const commands: [string, string[], boolean][] = [
    ["atomic-etl --help", ["--help"], false],
    ["import, 50 rows, --no-backup", ["import", "fixed", "--config", tiny, "--no-backup", "--redeploy"], true],
    ["import, 50 rows, with its backup", ["import", "fixed", "--config", tiny, "--redeploy"], true],
    ...(sized
      ? [
          [`import, ${o.sizedRows} rows, --no-backup`, ["import", "fixed", "--config", sized, "--no-backup", "--redeploy"], true] as [
            string,
            string[],
            boolean,
          ],
        ]
      : []),
  ];
  const samples = new Map(commands.map(([name]) => [name, [] as { wallMs: number; cpuMs: number | null }[]]));
  try {
    for (let i = 0; i < o.runs; i++) {
      for (let k = 0; k < commands.length; k++) {
        const [name, args, empties] = commands[(k + i) % commands.length] as [string, string[], boolean];
        if (empties) await emptyTables(o.url);
        samples.get(name)?.push(await timedRun(node, [...o.cli, ...args], env));
      }
    }
  } finally {
    await rm(tiny, { force: true });
    if (sized) await rm(sized, { force: true });
  }
  const rows: FixedCostRow[] = commands.map(([name]) => {
    const s = samples.get(name) ?? [];
    const cpu = s.every((x) => x.cpuMs !== null) ? Math.round(median(s.map((x) => x.cpuMs as number))) : null;
    return { command: name, wallMs: Math.round(median(s.map((x) => x.wallMs))), cpuMs: cpu };
  });
  const fixed = rows[1]?.wallMs ?? 0;
  const big = rows[3];
  if (big) big.fixedShare = Number((fixed / big.wallMs).toFixed(3));
  return rows;
}

/** Prints the table `measureFixedCost` returns. */
export function printFixedCost(rows: FixedCostRow[], runs: number): void {
  console.log(`\nfixed cost per run (the built CLI as a whole process; ${runs} run(s) each, median):`);
  console.table(rows);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("bench/fixed-cost.ts")) {
  const runs = Number(arg("runs", "5"));
  const sizedRows = arg("rows") === undefined ? undefined : Number(arg("rows"));
  const repo = process.cwd();
  const root = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-fixed-"));
  const db = await benchDatabase();
  try {
    await execa("npm", ["run", "build", "--silent"], { stdio: "inherit" });
    const rows = await measureFixedCost({ repo, root, url: db.url, cli: ["dist/cli/main.js"], runs, sizedRows });
    printFixedCost(rows, runs);
  } finally {
    await db.stop();
    await rm(root, { recursive: true, force: true });
  }
}
