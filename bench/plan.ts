/**
 * `npm run bench:plan`: how long `atomic-etl plan` takes against the import it plans, at 1M
 * rows, through the real CLI, in ONE run on the same database: the database holds release
 * v1, each round plans v2 (v1 with every 10th row of every table but leagues changed),
 * imports v2, then puts v1 back (untimed). Medians are reported as
 * ratios (goal: plan ≤ 1.0 × import). A reader probes the targets every 10 ms with a 100 ms
 * lock_timeout during an extra, untimed plan each round: its longest wait and any lock timeout
 * are reported. The timed plan and import run without it: the reader itself takes ~3 s of a
 * 30 s run from the 2 cores, so timing only the plan under it made plans look 10% slower.
 *
 *   npm run bench:plan -- [--rows 1000000] [--runs 3] [--strategies direct,staged-delete,merge] [--from-source]
 *
 * With ATOMIC_ETL_LOG_LEVEL=info, every run's log lines (one per phase step, with durationMs)
 * are appended to bench/data/plan-runs.log.
 */
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { appendFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import pg from "pg";
import { libpqEnv } from "../src/backup/pg-tools.js";
import { STRATEGY_NAMES } from "../src/config/schema.js";
import { generateRelease } from "../scripts/release-generator.js";
import { arg, benchDatabase, median, TABLES } from "./support.js";

const MODELS = { leagues: "League", teams: "Team", players: "Player", matches: "Match", player_match_stats: "PlayerMatchStat" } as const;
const rows = Number(arg("rows", "1000000"));
const runs = Number(arg("runs", "3"));
const strategies = (arg("strategies") ?? "direct,staged-delete,merge")
  .split(",")
  .filter((s) => (STRATEGY_NAMES as readonly string[]).includes(s));
const repo = process.cwd();

interface Report {
  rows: number;
  durationMs: number;
  outcome: string;
  phases: Record<string, number>;
  tables: { planned?: { changes: { inserted: number; updated: number; deleted: number } } }[];
}

async function cli(args: string[], env: Record<string, string>, base: string[]): Promise<{ ms: number; report: Report }> {
  const started = performance.now();
  const r = await execa(process.execPath, [...base, ...args, "--json"], { env, reject: false, stdin: "ignore" });
  const ms = performance.now() - started;
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")} failed (${r.exitCode}): ${r.stderr.slice(-1500)}`);
  // with ATOMIC_ETL_LOG_LEVEL=info: each run's log lines, kept beside the results
  if (r.stderr.trim()) await appendFile(path.join("bench/data", "plan-runs.log"), `# ${args.slice(0, 2).join(" ")}\n${r.stderr}\n`);
  return { ms, report: JSON.parse(r.stdout) as Report };
}

/**
 * Untimed, after each import of v1: VACUUM ANALYZE and a CHECKPOINT, so that the plan, which
 * runs next, does not share the 2 cores with autovacuum of the 1M rows just written (and
 * so no run pays for the writes of the one before).
 */
async function quiet(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query("VACUUM (ANALYZE)");
    await c.query("CHECKPOINT");
  } finally {
    await c.end();
  }
}

/** A reader with a 100 ms lock_timeout, every 10 ms: its longest round trip and the lock timeouts it hit. */
function probe(url: string): { stop(): Promise<{ probes: number; maxMs: number; lockTimeouts: number }> } {
  let running = true;
  const out = { probes: 0, maxMs: 0, lockTimeouts: 0 };
  const done = (async () => {
    const c = new pg.Client({ connectionString: url, application_name: "bench-probe" });
    await c.connect();
    await c.query("SET lock_timeout = '100ms'");
    while (running) {
      const t = performance.now();
      await c.query("SELECT id, full_name FROM players WHERE id = 1 + (random() * 1000)::int").catch((e: { code?: string }) => {
        if (e.code === "55P03") out.lockTimeouts++;
        else throw e;
      });
      out.maxMs = Math.max(out.maxMs, performance.now() - t);
      out.probes++;
      await new Promise((r) => setTimeout(r, 10));
    }
    await c.end();
  })();
  return { stop: async () => ((running = false), await done, out) };
}

/** Every `nth` row of a table changed in one field: an incremental release of the same keys. */
const CHANGE: Partial<Record<(typeof TABLES)[number], (r: Record<string, unknown>) => void>> = {
  teams: (r) => void (r.name = `${String(r.name)} II`),
  players: (r) => void (r.fullName = `${String(r.fullName)} Jr`),
  matches: (r) => void (r.attendance = Number(r.attendance ?? 0) + 1),
  player_match_stats: (r) => void (r.minutesPlayed = (Number(r.minutesPlayed) + 1) % 91),
};

async function changedCopy(from: string, to: string, nth = 10): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const t of TABLES) {
    const out = createWriteStream(path.join(to, `${t}.json`));
    let i = 0;
    for await (const line of createInterface({ input: createReadStream(path.join(from, `${t}.json`)) })) {
      const comma = line.endsWith(",");
      const body = comma ? line.slice(0, -1) : line;
      let text = line;
      if (body.startsWith("{") && i++ % nth === 0 && CHANGE[t]) {
        const r = JSON.parse(body) as Record<string, unknown>;
        CHANGE[t]?.(r);
        text = JSON.stringify(r) + (comma ? "," : "");
      }
      if (!out.write(`${text}\n`)) await once(out, "drain");
    }
    out.end();
    await once(out, "finish");
  }
}

async function writeConfig(file: string, v1: string, v2: string): Promise<void> {
  const tables = (merge: boolean) =>
    TABLES.map((t) => `{ model: ${JSON.stringify(MODELS[t])}, file: "${t}.json"${merge ? ', mode: "merge"' : ""} }`).join(", ");
  await writeFile(
    file,
    `import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from ${JSON.stringify(path.join(repo, "etl/generated/prisma/client.ts"))};
export default {
  client: ({ url }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }),
  releases: {
    v1: { dir: ${JSON.stringify(v1)}, tables: [${tables(false)}] },
    v2: { dir: ${JSON.stringify(v2)}, tables: [${tables(false)}] },
    "v2-merge": { dir: ${JSON.stringify(v2)}, tables: [${tables(true)}] },
  },
};
`,
  );
}

async function main() {
  const db = await benchDatabase();
  const root = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-bench-plan-"));
  await mkdir(path.join(repo, "bench/data"), { recursive: true });
  const config = path.join(repo, `bench/data/plan-${process.pid}.config.ts`);
  try {
    process.stderr.write(`generating a release of ${rows} rows and a changed copy…\n`);
    await generateRelease({ out: path.join(root, "v1"), rows, seed: 1 });
    await changedCopy(path.join(root, "v1"), path.join(root, "v2"));
    await writeConfig(config, path.join(root, "v1"), path.join(root, "v2"));
    const fromSource = arg("from-source") === "true";
    if (!fromSource) await execa("npm", ["run", "build", "--silent"], { stdio: "inherit" });
    const base = fromSource ? ["--import", "tsx", "src/cli/main.ts"] : ["dist/cli/main.js"];
    const env = {
      ...process.env,
      ...libpqEnv(db.url),
      DATABASE_URL: db.url,
      ATOMIC_ETL_LOG_LEVEL: process.env.ATOMIC_ETL_LOG_LEVEL ?? "warn",
    } as Record<string, string>;
    const run = (args: string[]) => cli([...args, "--config", config], env, base);
    await run(["import", "v1", "--no-backup"]);
    await quiet(db.url);
    const table = [];
    for (const s of strategies) {
      const release = s === "merge" ? "v2-merge" : "v2";
      const extra = s === "merge" ? [] : ["--strategy", s];
      const plans: number[] = [];
      const imports: number[] = [];
      const stalls: { maxMs: number; lockTimeouts: number }[] = [];
      let ledgerMs = 0;
      let changes = 0;
      for (let i = 0; i < runs; i++) {
        process.stderr.write(`${s}, round ${i + 1}/${runs}: plan under a reader (untimed), plan, import, reset…\n`);
        // the reader costs the plan ~3 s of the 2 cores: blocking is measured on a plan of its own
        const reader = probe(db.url);
        await run(["plan", release, ...extra]);
        stalls.push(await reader.stop());
        const p = await run(["plan", release, ...extra]);
        const imp = await run(["import", release, "--no-backup", ...extra]);
        plans.push(p.ms);
        imports.push(imp.ms);
        ledgerMs = imp.report.phases.ledger ?? 0;
        process.stderr.write(`  plan phases ${JSON.stringify(p.report.phases)}\n  import phases ${JSON.stringify(imp.report.phases)}\n`);
        changes = p.report.tables.reduce(
          (a, t) => a + (t.planned ? t.planned.changes.inserted + t.planned.changes.updated + t.planned.changes.deleted : 0),
          0,
        );
        // autovacuum of the rows the import just wrote would hold up the reset's ACCESS EXCLUSIVE (LOCK_TIMEOUT)
        await quiet(db.url);
        await run(["import", "v1", "--no-backup", "--redeploy"]);
        await quiet(db.url);
      }
      const plan = median(plans);
      const imp = median(imports);
      table.push({
        strategy: s,
        rows,
        changes,
        planMs: Math.round(plan),
        importMs: Math.round(imp),
        planToImport: Number((plan / imp).toFixed(2)),
        importLedgerPhaseMs: Math.round(ledgerMs),
        readerMaxMs: Math.round(Math.max(...stalls.map((x) => x.maxMs))),
        readerLockTimeouts: stalls.reduce((a, x) => a + x.lockTimeouts, 0),
      });
    }
    console.log(`\nplan vs import, ${rows} rows, ${runs} round(s) each, medians (real CLI, no backup):`);
    console.table(table);
    for (const t of table) console.log(`${t.planToImport <= 1 ? "pass" : "miss"}  plan ≤ 1.0 × import (${t.strategy}: ${t.planToImport}×)`);
    const out = path.resolve("bench/results");
    await mkdir(out, { recursive: true });
    const file = path.join(out, `${new Date().toISOString().replace(/[:.]/g, "-")}-plan.json`);
    await writeFile(file, JSON.stringify({ rows, runs, table }, null, 2));
    console.log(`results: ${path.relative(process.cwd(), file)}`);
  } finally {
    await db.stop();
    await rm(config, { force: true });
    await rm(root, { recursive: true, force: true });
  }
}

await main();
