/**
 * `npm run bench:sample`: making a release from a live database, side by side in ONE run on
 * the generated example database (1M rows by default): atomic-etl `export` (real CLI) against
 * `pg_dump --data-only` of the same tables and `psql \copy (SELECT row_to_json(t) …) TO`, then
 * 1% and 10% samples (`--limit '*=1%'`, FK-closed). Medians of --runs in alternating order,
 * peak RSS of each process (/usr/bin/time), ratios printed; nothing asserted on time.
 *
 *   npm run bench:sample -- [--rows 1000000] [--runs 3] [--jobs 2] [--from-source]
 *
 * The CLI runs from the built package (`npm run build` first) unless --from-source (tsx).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { libpqEnv, resolveClientTool } from "../src/backup/pg-tools.js";
import { RELEASE_COLUMNS } from "../scripts/release-generator.js";
import { arg, benchDatabase, benchRelease, median, TABLES } from "./support.js";

const rows = Number(arg("rows", "1000000"));
const runs = Number(arg("runs", "3"));
const jobs = arg("jobs", "2") as string;
const repo = process.cwd();
const root = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-bench-sample-"));
const MODELS = { leagues: "League", teams: "Team", players: "Player", matches: "Match", player_match_stats: "PlayerMatchStat" } as const;

interface Result {
  ms: number;
  /** The command's own time (manifest durationMs: snapshot to rename), without process start and config load. */
  runMs: number | null;
  rows: number;
  peakRssMb: number | null;
}

async function timed(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ ms: number; peakRssMb: number | null; stdout: string }> {
  const started = performance.now();
  const r = await execa("/usr/bin/time", ["-f", "MAXRSS_KB %M", cmd, ...args], { env, reject: false, stdin: "ignore", cwd: repo });
  const ms = performance.now() - started;
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(" ")} failed (${r.exitCode}): ${r.stderr.slice(-1500)}`);
  const m = /MAXRSS_KB (\d+)/.exec(r.stderr);
  return { ms, peakRssMb: m ? Math.round(Number(m[1]) / 1024) : null, stdout: r.stdout };
}

const runMsOf = (stdout: string) => (JSON.parse(stdout) as { durationMs: number }).durationMs;

interface Runner {
  name: string;
  run(): Promise<Result>;
}

/** The five runners: two references, the export, and the 1% and 10% samples. */
function runnersFor(x: {
  root: string;
  env: Record<string, string>;
  psql: string;
  pgDump: string;
  cli: (args: string[]) => Promise<{ ms: number; peakRssMb: number | null; stdout: string }>;
  outputRows: (stdout: string) => number;
}): Runner[] {
  const { root, env, cli, outputRows } = x;
  const out = (name: string) => path.join(root, `out-${name}`);
  return [
    {
      name: "pg_dump --data-only (plain)",
      async run() {
        const r = await timed(
          x.pgDump,
          ["--data-only", "-f", path.join(root, "dump.sql"), ...TABLES.flatMap((t) => ["-t", `public.${t}`])],
          env,
        );
        return { ms: r.ms, runMs: null, rows, peakRssMb: r.peakRssMb };
      },
    },
    {
      name: "psql \\copy (SELECT row_to_json…) TO",
      async run() {
        const args = ["-X", "-q", "-v", "ON_ERROR_STOP=1"];
        for (const t of TABLES) args.push("-c", `\\copy (SELECT row_to_json(t) FROM "${t}" t) TO '${path.join(root, `${t}.psql.json`)}'`);
        const r = await timed(x.psql, args, env);
        return { ms: r.ms, runMs: null, rows, peakRssMb: r.peakRssMb };
      },
    },
    {
      name: "atomic-etl export (CLI, closure verified)",
      async run() {
        const r = await cli(["export", "bench", "--out", out("export")]);
        return { ms: r.ms, runMs: runMsOf(r.stdout), rows: outputRows(r.stdout), peakRssMb: r.peakRssMb };
      },
    },
    ...(["1", "10"] as const).map((p) => ({
      name: `atomic-etl sample --limit '*=${p}%'`,
      async run() {
        const r = await cli(["sample", `bench${p}`, "--limit", `*=${p}%`, "--out", out(`s${p}`)]);
        return { ms: r.ms, runMs: runMsOf(r.stdout), rows: outputRows(r.stdout), peakRssMb: r.peakRssMb };
      },
    })),
  ];
}

async function main(): Promise<void> {
  const db = await benchDatabase();
  const configPath = path.join(repo, `bench/data/bench-sample-${process.pid}.config.ts`);
  try {
    process.stderr.write(`loading ${rows} rows of the example schema…\n`);
    const rel = await benchRelease(rows, root);
    const env = { ...process.env, ...libpqEnv(db.url), DATABASE_URL: db.url } as Record<string, string>;
    const psql = await resolveClientTool("psql");
    const pgDump = await resolveClientTool("pg_dump");
    const load = ["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1"];
    for (const t of TABLES) {
      const cols = RELEASE_COLUMNS[t].map(([, c]) => `"${c}"`).join(", ");
      load.push("-c", `\\copy "${t}" (${cols}) FROM '${path.join(rel.csvDir, `${t}.csv`)}' WITH (FORMAT csv, HEADER true)`);
    }
    load.push("-c", "ANALYZE");
    await execa(psql.path, load, { env });
    await mkdir(path.dirname(configPath), { recursive: true });
    await writeFile(
      configPath,
      `import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from ${JSON.stringify(path.join(repo, "etl/generated/prisma/client.ts"))};
export default {
  client: ({ url }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }),
  releases: { bench: { tables: [${TABLES.map((t) => `{ model: ${JSON.stringify(MODELS[t])}, file: "${t}.ndjson" }`).join(", ")}] } },
  samples: { bench1: {}, bench10: {} },
};
`,
    );
    const fromSource = arg("from-source") === "true";
    if (!fromSource) await execa("npm", ["run", "build", "--silent"], { stdio: "inherit" });
    const main = fromSource ? ["--import", "tsx", "src/cli/main.ts"] : ["dist/cli/main.js"];
    const cli = (args: string[]) =>
      timed(process.execPath, [...main, ...args, "-c", configPath, "--from", "local", "--jobs", jobs, "--force", "--json"], env);
    const outputRows = (stdout: string) => (JSON.parse(stdout) as { tables: { rows: number }[] }).tables.reduce((n, t) => n + t.rows, 0);
    const runners = runnersFor({ root, env, psql: psql.path, pgDump: pgDump.path, cli, outputRows });
    const results = new Map<string, Result[]>(runners.map((r) => [r.name, []]));
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? runners : [...runners].reverse();
      for (const r of order) {
        const res = await r.run();
        results.get(r.name)?.push(res);
        process.stderr.write(`  run ${i + 1}: ${r.name}: ${(res.ms / 1000).toFixed(2)} s, ${res.rows} rows, ${res.peakRssMb} MB\n`);
      }
    }
    report(
      results,
      runners.map((r) => r.name),
    );
  } finally {
    await rm(configPath, { force: true });
    await rm(root, { recursive: true, force: true });
    await db.stop();
  }
}

function report(results: Map<string, Result[]>, names: string[]): void {
  const med = (n: string) => {
    const rs = results.get(n) ?? [];
    const run = rs.map((r) => r.runMs).filter((x): x is number => x !== null);
    return {
      ms: median(rs.map((r) => r.ms)),
      runMs: run.length ? median(run) : null,
      rows: rs[0]?.rows ?? 0,
      rss: Math.max(...rs.map((r) => r.peakRssMb ?? 0)),
    };
  };
  const dump = med(names[0] as string);
  const exp = med(names[2] as string);
  const dumpRate = dump.rows / (dump.ms / 1000);
  const lines = [
    `\n${rows} source rows, medians of ${runs} runs, jobs ${jobs}; "run" = the command's own time (snapshot → rename), wall minus process start and config load\n`,
    "| runner | wall | run | output rows | rows/s (wall) | × pg_dump rows/s (wall / run) | × export time (wall / run) | peak RSS |",
    "|---|---|---|---|---|---|---|---|",
  ];
  const f = (ms: number | null) => (ms === null ? "—" : `${(ms / 1000).toFixed(2)} s`);
  for (const n of names) {
    const m = med(n);
    const rate = (ms: number) => m.rows / (ms / 1000) / dumpRate;
    lines.push(
      `| ${n} | ${f(m.ms)} | ${f(m.runMs)} | ${m.rows} | ${Math.round(m.rows / (m.ms / 1000)).toLocaleString("en")} | ${rate(m.ms).toFixed(2)}${m.runMs ? ` / ${rate(m.runMs).toFixed(2)}` : ""} | ${(m.ms / exp.ms).toFixed(2)}${m.runMs && exp.runMs ? ` / ${(m.runMs / exp.runMs).toFixed(2)}` : ""} | ${m.rss} MB |`,
    );
  }
  const s10 = med(names[4] as string);
  const expRate = exp.rows / (exp.ms / 1000) / dumpRate;
  const rss = Math.max(...names.slice(2).map((n) => med(n).rss));
  const linear = s10.runMs && exp.runMs ? s10.runMs / exp.runMs : s10.ms / exp.ms;
  lines.push(
    "",
    `goal export ≥ 0.8 × pg_dump rows/s (wall): ${expRate >= 0.8 ? "pass" : "miss"} (${expRate.toFixed(2)}×${exp.runMs ? `; ${(exp.rows / (exp.runMs / 1000) / dumpRate).toFixed(2)}× by run time` : ""})`,
    `goal 10% sample ≤ 0.3 × export time (run): ${linear <= 0.3 ? "pass" : "miss"} (${linear.toFixed(2)}×; wall ${(s10.ms / exp.ms).toFixed(2)}×)`,
    `goal peak RSS ≤ 256 MB at every size: ${rss <= 256 ? "pass" : "miss"} (${rss} MB)`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
