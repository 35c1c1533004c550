/**
 * `npm run bench`: atomic-etl against COPY, pgloader and Prisma createMany, side by side in
 * ONE run, on the same data and the same database. Each runner loads into freshly emptied
 * tables, in alternating order, several times; medians are reported as ratios.
 *
 *   npm run bench -- [--rows 1000000] [--runs 3] [--strategies direct,staged-delete] [--only atomic-etl] [--scaling] [--with-5m] [--smoke] [--from-source]
 *
 * --smoke (CI): one run each at --rows (default 20000), checks that every runner loaded exactly
 * the same rows (equal fingerprints), never asserts on time; exits 1 on a mismatch.
 * Then the fixed cost per run (bench/fixed-cost.ts): --help and a 50-row import.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { libpqEnv, resolveClientTool } from "../src/backup/pg-tools.js";
import { diffFingerprints, type Fingerprint } from "../src/db/fingerprint.js";
import { STRATEGY_NAMES } from "../src/config/schema.js";
import { RELEASE_COLUMNS } from "../scripts/release-generator.js";
import { arg, benchDatabase, benchRelease, emptyTables, fingerprints, median, TABLES, writeBenchConfig } from "./support.js";
import { measureFixedCost, printFixedCost } from "./fixed-cost.js";
import { bulkCopyScript } from "./bulk-copy.js";

interface Sample {
  ms: number;
  rows: number;
  peakRssMb: number | null;
  dbMs: number | null;
}
interface Runner {
  name: string;
  /** The targets before the timed run: emptied (default), or holding the release already (a replace, the real use). */
  start?: "empty" | "filled";
  run(): Promise<Sample>;
}

const LIMIT = "bulk COPY (pg_restore-style)";
const COPY = "COPY (psql \\copy, indexes in place)";
const REPLACE_BACKUP = "atomic-etl (direct, replacing 1 release, default backup)";
const REPLACE_NO_BACKUP = "atomic-etl (direct, replacing 1 release, --no-backup)";
const smoke = arg("smoke") === "true";
const rows = Number(arg("rows", smoke ? "20000" : "1000000"));
const runs = Number(arg("runs", smoke ? "1" : "3"));
const strategies = (arg("strategies") ?? "direct").split(",").filter((s) => (STRATEGY_NAMES as readonly string[]).includes(s));
const root = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-bench-"));
const repo = process.cwd();

/** Runs a command under /usr/bin/time to read its peak RSS. */
async function timed(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ ms: number; peakRssMb: number | null; stdout: string }> {
  const useTime = process.platform === "linux" && (await execa("test", ["-x", "/usr/bin/time"], { reject: false })).exitCode === 0;
  const started = performance.now();
  const r = await execa(useTime ? "/usr/bin/time" : cmd, useTime ? ["-f", "MAXRSS_KB %M", cmd, ...args] : args, {
    env,
    reject: false,
    stdin: "ignore",
  });
  const ms = performance.now() - started;
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(" ")} failed (${r.exitCode}): ${r.stderr.slice(-1500)}`);
  const m = /MAXRSS_KB (\d+)/.exec(r.stderr);
  return { ms, peakRssMb: m ? Math.round(Number(m[1]) / 1024) : null, stdout: r.stdout };
}

const configs: string[] = [];

async function main() {
  const db = await benchDatabase();
  try {
    process.stderr.write(`generating a release of ${rows} rows in ${root}…\n`);
    const rel = await benchRelease(rows, root);
    const relColumns = await benchRelease(rows, root, "columns");
    const env = { ...process.env, ...libpqEnv(db.url), DATABASE_URL: db.url } as Record<string, string>;
    const psql = await resolveClientTool("psql");
    const hasPgloader = (await execa("pgloader", ["--version"], { reject: false })).exitCode === 0;
    // The real CLI path: the built package, unless --from-source (tsx) is asked for.
    const fromSource = arg("from-source") === "true";
    if (!fromSource) await execa("npm", ["run", "build", "--silent"], { stdio: "inherit" });
    const cli = fromSource ? ["--import", "tsx", "src/cli/main.ts"] : ["dist/cli/main.js"];
    // Inside the repo (git-ignored) so that the config resolves the project's node_modules.
    await mkdir(path.join(repo, "bench/data"), { recursive: true });
    // One config per bench process: a concurrent run (say the smoke test in `npm test`) must
    // not repoint this one at its own release.
    const configPath = path.join(repo, `bench/data/bench-${process.pid}.config.ts`);
    configs.push(configPath);
    // The README's factory (the tool's adapter: loads by COPY), and the one written before the
    // COPY path (its own adapter: INSERT … SELECT), measured side by side.
    const insertConfigPath = path.join(repo, `bench/data/bench-${process.pid}-insert.config.ts`);
    configs.push(insertConfigPath);
    // this process's own backup folder, removed at the end (a concurrent smoke run keeps its own)
    const backupDir = path.join(root, "backups");
    await writeBenchConfig(configPath, rel.dir, "({ adapter }) => new PrismaClient({ adapter })", backupDir);
    await writeBenchConfig(
      insertConfigPath,
      rel.dir,
      "({ url }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) })",
    );

    const bulkScript = path.join(root, "bulk-copy.sql");
    await writeFile(bulkScript, bulkCopyScript(rel.csvDir));
    const bulkCopy = () => timed(psql.path, ["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-f", bulkScript], env);
    const etlRunner = (name: string, s: string, config: string, opts: { backup?: boolean; start?: "filled" } = {}): Runner => ({
      name,
      start: opts.start,
      async run() {
        const flags = [...(opts.backup ? [] : ["--no-backup"]), ...(opts.start ? ["--redeploy"] : [])];
        const r = await timed(process.execPath, [...cli, "import", "bench", "--config", config, ...flags, "--json", "--strategy", s], {
          ...env,
          ATOMIC_ETL_LOG_LEVEL: "warn",
        });
        const report = JSON.parse(r.stdout) as { rows: number; tables: { dbMs: number }[] };
        if (report.rows !== rows) throw new Error(`${name} loaded ${report.rows} rows, not ${rows}`);
        return { ms: r.ms, rows: report.rows, peakRssMb: r.peakRssMb, dbMs: report.tables.reduce((a, t) => a + t.dbMs, 0) };
      },
    });

    const runners: Runner[] = [
      {
        name: LIMIT,
        async run() {
          const r = await bulkCopy();
          return { ms: r.ms, rows, peakRssMb: r.peakRssMb, dbMs: r.ms };
        },
      },
      {
        name: COPY,
        async run() {
          const args = ["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1"];
          for (const t of TABLES) {
            const cols = RELEASE_COLUMNS[t].map(([, c]) => `"${c}"`).join(", ");
            args.push("-c", `\\copy "${t}" (${cols}) FROM '${path.join(rel.csvDir, `${t}.csv`)}' WITH (FORMAT csv, HEADER true)`);
          }
          const r = await timed(psql.path, args, env);
          return { ms: r.ms, rows, peakRssMb: r.peakRssMb, dbMs: r.ms };
        },
      },
      {
        name: "floor: INSERT…SELECT over pg",
        async run() {
          const r = await timed(process.execPath, ["--import", "tsx", "bench/insert-select-floor.ts", relColumns.dir], env);
          return { ms: r.ms, rows: JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}").rows, peakRssMb: r.peakRssMb, dbMs: null };
        },
      },
      {
        name: "Prisma createMany",
        async run() {
          const r = await timed(process.execPath, ["--import", "tsx", "bench/create-many.ts", rel.dir], env);
          return { ms: r.ms, rows: JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}").rows, peakRssMb: r.peakRssMb, dbMs: null };
        },
      },
      ...strategies.flatMap((s) => [
        etlRunner(`atomic-etl (${s})`, s, configPath),
        etlRunner(`atomic-etl (${s}, INSERT…SELECT)`, s, insertConfigPath),
      ]),
      // the real use: replacing the rows a deploy left, with and without the default backup
      etlRunner(REPLACE_BACKUP, "direct", configPath, { backup: true, start: "filled" }),
      etlRunner(REPLACE_NO_BACKUP, "direct", configPath, { start: "filled" }),
    ];
    if (hasPgloader) {
      const u = new URL(db.url);
      runners.splice(1, 0, {
        name: "pgloader (CSV)",
        async run() {
          let ms = 0;
          let peak = 0;
          for (const t of TABLES) {
            const cmd = path.join(root, `pgloader-${t}.load`);
            // The target URL (with its password) goes in a 0600 command file, never in argv.
            u.pathname = u.pathname.split("?")[0] ?? u.pathname;
            const target = `postgresql://${u.username}:${u.password}@${u.hostname}:${u.port}${u.pathname}`;
            await writeFile(
              cmd,
              `LOAD CSV FROM '${path.join(rel.csvDir, `${t}.csv`)}' (${RELEASE_COLUMNS[t].map(([, c]) => c).join(", ")})
  INTO ${target}?tablename=${t} (${RELEASE_COLUMNS[t].map(([, c]) => c).join(", ")})
  WITH skip header = 1, fields optionally enclosed by '"', fields escaped by double-quote, fields terminated by ','
  SET work_mem to '64MB';\n`,
              { mode: 0o600 },
            );
            const r = await timed("pgloader", ["--quiet", "--no-ssl-cert-verification", cmd], env);
            ms += r.ms;
            peak = Math.max(peak, r.peakRssMb ?? 0);
          }
          return { ms, rows, peakRssMb: peak, dbMs: null };
        },
      });
    }

    // --only a,b: just the runners whose names start with one of these (the first, the limit, always runs: it is the reference)
    const only = arg("only")?.split(",");
    if (only) runners.splice(1, runners.length, ...runners.slice(1).filter((r) => only.some((o) => r.name.startsWith(o))));
    const samples = new Map<string, Sample[]>(runners.map((r) => [r.name, []]));
    const prints = new Map<string, Record<string, Fingerprint>>();
    for (let i = 0; i < runs; i++) {
      const order = runners.map((_, k) => runners[(k + i) % runners.length] as Runner);
      for (const r of order) {
        await emptyTables(db.url);
        if (r.start === "filled") await bulkCopy();
        process.stderr.write(`run ${i + 1}/${runs}: ${r.name}…\n`);
        samples.get(r.name)?.push(await r.run());
        prints.set(r.name, await fingerprints(db.url));
      }
    }

    const reference = prints.get(runners[0]?.name ?? "") ?? {};
    const fair = runners.map((r) => ({ name: r.name, diff: diffFingerprints(reference, prints.get(r.name) ?? {}) }));
    const msOf = (name: string) => median(samples.get(name)?.map((s) => s.ms) ?? [NaN]);
    const limitMs = msOf(LIMIT);
    const copyMs = msOf(COPY);
    const table = runners.map((r) => {
      const s = samples.get(r.name) ?? [];
      const ms = median(s.map((x) => x.ms));
      const db = s.every((x) => x.dbMs !== null) ? median(s.map((x) => x.dbMs as number)) : null;
      return {
        runner: r.name,
        rows: s[0]?.rows ?? 0,
        wallMs: Math.round(ms),
        rowsPerSec: Math.round((rows / ms) * 1000),
        ratioToLimit: Number((limitMs / ms).toFixed(3)),
        ratioToCopy: Number((copyMs / ms).toFixed(3)),
        peakRssMb: median(s.map((x) => x.peakRssMb ?? 0)),
        postgresMs: db === null ? null : Math.round(db),
        sameRowsAsLimit: (fair.find((f) => f.name === r.name)?.diff.length ?? 1) === 0,
      };
    });
    console.log(`\n${rows} rows, ${runs} run(s) each, median:`);
    console.table(table);
    if (!hasPgloader) console.log("pgloader: skipped (not installed; apt-get install pgloader)");
    const etl = table.find((t) => t.runner === "atomic-etl (direct)");
    const cm = table.find((t) => t.runner === "Prisma createMany");
    const pl = table.find((t) => t.runner.startsWith("pgloader"));
    const sd = table.find((t) => t.runner === "atomic-etl (staged-delete)");
    const withBackup = table.find((t) => t.runner === REPLACE_BACKUP);
    const noBackup = table.find((t) => t.runner === REPLACE_NO_BACKUP);
    const goals: [string, boolean | null][] = [
      ["atomic-etl (direct) ≥ 0.85 × the bulk-COPY limit", etl ? etl.ratioToLimit >= 0.85 : null],
      ["atomic-etl (staged-delete) ≥ 0.5 × the bulk-COPY limit", sd ? sd.ratioToLimit >= 0.5 : null],
      [
        "replacing with the default backup ≤ 1.3 × the same run with --no-backup",
        withBackup && noBackup ? withBackup.wallMs <= 1.3 * noBackup.wallMs : null,
      ],
      ["atomic-etl ≥ 10 × createMany", etl && cm ? etl.rowsPerSec >= 10 * cm.rowsPerSec : null],
      ["atomic-etl ≥ 2 × pgloader", etl && pl ? etl.rowsPerSec >= 2 * pl.rowsPerSec : null],
    ];

    let scaling: { rows: number; rowsPerSec: number; peakRssMb: number | null }[] = [];
    if (arg("scaling") === "true") {
      const sizes = [1_000_000, ...(arg("with-5m") === "true" ? [5_000_000] : [])];
      for (const n of sizes) {
        const r2 = n === rows ? rel : await benchRelease(n, root);
        const cfg = path.join(repo, `bench/data/scale-${n}-${process.pid}.config.ts`);
        configs.push(cfg);
        await writeBenchConfig(cfg, r2.dir, "({ adapter }) => new PrismaClient({ adapter })");
        await emptyTables(db.url);
        process.stderr.write(`scaling: ${n} rows…\n`);
        const r = await timed(process.execPath, [...cli, "import", "bench", "--config", cfg, "--no-backup", "--json"], {
          ...env,
          ATOMIC_ETL_LOG_LEVEL: "warn",
        });
        const loaded = (JSON.parse(r.stdout) as { rows: number }).rows;
        if (loaded !== n) throw new Error(`scaling: loaded ${loaded} rows, not ${n}`);
        scaling.push({ rows: n, rowsPerSec: Math.round((n / r.ms) * 1000), peakRssMb: r.peakRssMb });
      }
      console.log("\nscaling series (atomic-etl, direct):");
      console.table(scaling);
      const small = scaling[0];
      const big = scaling.at(-1);
      if (small && big && big.rows >= 5_000_000) {
        goals.push(["peak RSS ≤ 256 MB at 5M rows", (big.peakRssMb ?? Infinity) <= 256]);
        goals.push(["rows/s at 5M within ±15% of 1M", Math.abs(big.rowsPerSec / small.rowsPerSec - 1) <= 0.15]);
      }
    } else scaling = [];
    if (!smoke) for (const [g, ok] of goals) console.log(`${ok === null ? "n/a " : ok ? "pass" : "miss"}  ${g}`);

    const fixedCost = await measureFixedCost({ repo, root, url: db.url, cli, runs });
    printFixedCost(fixedCost, runs);

    const out = path.resolve("bench/results");
    await mkdir(out, { recursive: true });
    const file = path.join(out, `${new Date().toISOString().replace(/[:.]/g, "-")}${smoke ? "-smoke" : ""}.json`);
    await writeFile(file, JSON.stringify({ rows, runs, table, scaling, goals, fair, fixedCost }, null, 2));
    console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
    const unfair = fair.filter((f) => f.diff.length);
    if (unfair.length) {
      console.log(`NOT FAIR: ${unfair.map((f) => `${f.name} differs in ${f.diff.join(", ")}`).join("; ")}`);
      process.exitCode = 1;
    } else console.log("fair: every runner loaded exactly the same rows (fingerprints equal)");
  } finally {
    await db.stop();
    for (const c of configs) await rm(c, { force: true });
    await rm(root, { recursive: true, force: true });
  }
}

await main();
