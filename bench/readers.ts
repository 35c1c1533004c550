/**
 * Reader-stall benchmark: how long do readers wait while a release replaces the data?
 *
 *   npm run bench:readers -- [--rows 1000000] [--strategies direct,staged-truncate,staged-delete,swap] [--data /tmp/…]
 *
 * Two releases (A and B, different row counts) are generated outside git (default
 * /tmp/atomic-etl-bench-readers), A is loaded, then each strategy in turn replaces the data
 * with the other release while
 *   - a probe process hits every target table with a primary-key lookup every ~10 ms and,
 *     on a second connection, counts every table in one statement (one snapshot);
 *   - pgbench runs a custom point-SELECT script (2 clients, 100 tx/s, latency log).
 * Per strategy it prints the import time, the final-phase time, reader max/p99 latency over
 * the import and over the final phase, and which row counts readers saw (old, new, or
 * anything else, which must never happen). JSON goes to bench/results/ (git-ignored).
 * BENCH_DATABASE_URL uses that server instead of a throwaway one.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { generateRelease, RELEASE_TABLES, type ReleaseTable } from "../scripts/release-generator.js";
import { PrismaClient } from "../etl/generated/prisma/client.js";
import { parseConfig } from "../src/config/load.js";
import type { StrategyName } from "../src/config/schema.js";
import { applyMigrations } from "../tools/migrations.js";
import { findPgBinaries, pgToolPath } from "../tools/harness/pg-binaries.js";
import { startThrowawayPostgres } from "../tools/harness/throwaway-postgres.js";
import { EtlError } from "../src/errors.js";
import { AtomicEtl, RunFailed } from "../src/atomic-etl.js";

type Counts = Record<ReleaseTable, number>;
/** One reader query: when it started (epoch ms), how long it took, and for count probes what it saw. */
interface Sample {
  at: number;
  ms: number;
  counts?: string;
}

const PROBE_INTERVAL_MS = 10;
/** Readers run this long before each import, as the baseline of an idle database. */
const IDLE_MS = 3_000;
/** Pause between two count probes (each one scans every table). */
const COUNT_PAUSE_MS = 1_000;
const ROOT = fileURLToPath(new URL("..", import.meta.url));

// ---- probe process: its own event loop, so the import's JSON parsing never delays a probe

async function probeChild(): Promise<void> {
  const [{ url, maxIds }] = (await once(process, "message")) as [{ url: string; maxIds: Counts }];
  const connect = async () => {
    const c = new pg.Client({ connectionString: url, application_name: "bench-reader" });
    c.on("error", () => undefined);
    await c.connect();
    return c;
  };
  const point = await connect();
  const counter = await connect();
  const lookups: Sample[] = [];
  const counts: Sample[] = [];
  let running = true;
  const pointSql = `SELECT ${RELEASE_TABLES.map((t, i) => `(SELECT id FROM "${t}" WHERE id = $${i + 1})`).join(", ")}`;
  const countSql = `SELECT ${RELEASE_TABLES.map((t) => `(SELECT count(*) FROM "${t}")`).join(" || ',' || ")} AS c`;
  process.send?.("ready");
  const loops = [
    (async () => {
      while (running) {
        const at = Date.now();
        const t = performance.now();
        await point.query(
          pointSql,
          RELEASE_TABLES.map((tb) => 1 + Math.floor(Math.random() * maxIds[tb])),
        );
        const ms = performance.now() - t;
        lookups.push({ at, ms });
        await new Promise((r) => setTimeout(r, Math.max(0, PROBE_INTERVAL_MS - ms)));
      }
    })(),
    (async () => {
      while (running) {
        const at = Date.now();
        const t = performance.now();
        const r = await counter.query<{ c: string }>(countSql);
        counts.push({ at, ms: performance.now() - t, counts: r.rows[0]?.c });
        // a count(*) of a million rows is itself a long reader: leave the exclusive lock room
        await new Promise((r2) => setTimeout(r2, COUNT_PAUSE_MS));
      }
    })(),
  ];
  await once(process, "message");
  running = false;
  await Promise.all(loops);
  await Promise.all([point.end(), counter.end()]);
  process.send?.({ lookups, counts }, () => process.exit(0));
}

// ---- pgbench

interface Pgbench {
  proc: ChildProcess;
  prefix: string;
}

function pgbenchEnv(url: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  // the password travels in the environment, never in argv
  return {
    ...process.env,
    PGHOST: u.hostname,
    PGPORT: u.port || "5432",
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: u.pathname.slice(1),
  };
}

async function startPgbench(bin: string, url: string, dir: string, maxId: number): Promise<Pgbench> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const script = path.join(dir, "select.sql");
  await writeFile(script, "\\set id random(1, :maxid)\nSELECT id, player_id, minutes_played FROM player_match_stats WHERE id = :id;\n");
  const prefix = path.join(dir, "pgbench");
  const proc = spawn(
    bin,
    ["-n", "-f", script, "-c", "2", "-j", "2", "-R", "100", "-T", "3600", "-l", `--log-prefix=${prefix}`, "-D", `maxid=${maxId}`],
    {
      env: pgbenchEnv(url),
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  return { proc, prefix };
}

/** pgbench log lines: client tx latency_us script epoch_s epoch_us [lag]; killed pgbench loses only its last few seconds. */
async function stopPgbench(p: Pgbench): Promise<Sample[]> {
  p.proc.kill("SIGINT");
  await once(p.proc, "exit");
  const dir = path.dirname(p.prefix);
  const out: Sample[] = [];
  for (const f of (await readdir(dir)).filter((x) => x.startsWith("pgbench."))) {
    for (const line of (await readFile(path.join(dir, f), "utf8")).split("\n")) {
      const [, , lat, , sec, usec] = line.trim().split(/\s+/).map(Number);
      if (lat === undefined || sec === undefined || usec === undefined || Number.isNaN(usec)) continue;
      const end = sec * 1000 + usec / 1000;
      out.push({ at: end - lat / 1000, ms: lat / 1000 });
    }
  }
  return out;
}

// ---- statistics

function stats(samples: Sample[], from: number, to: number): { n: number; maxMs: number; p99Ms: number } {
  // a query counts for a window when it overlaps it
  const ms = samples
    .filter((s) => s.at <= to && s.at + s.ms >= from)
    .map((s) => s.ms)
    .sort((a, b) => a - b);
  const p99 = ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))] ?? 0;
  return { n: ms.length, maxMs: Math.round(ms.at(-1) ?? 0), p99Ms: Math.round(p99) };
}

const countsKey = (c: Counts) => RELEASE_TABLES.map((t) => c[t]).join(",");

// ---- main

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: "string" }, strategies: { type: "string" }, data: { type: "string" } } });
  const rows = Number((values.rows ?? "1000000").replaceAll("_", ""));
  if (!Number.isInteger(rows) || rows < 100) throw new Error(`--rows must be an integer >= 100 (got ${values.rows})`);
  const strategies = (values.strategies ?? "direct,staged-truncate,staged-delete,swap").split(",") as StrategyName[];
  const dataDir = path.resolve(values.data ?? path.join(os.tmpdir(), "atomic-etl-bench-readers"), String(rows));

  // two releases with different row counts, so every count a reader sees is old, new, or wrong
  const releases: Record<"a" | "b", { dir: string; counts: Counts }> = {} as never;
  for (const [name, n, seed] of [
    ["a", rows, 2026],
    ["b", Math.round(rows * 1.01) + 7, 2027],
  ] as const) {
    const dir = path.join(dataDir, name);
    const marker = path.join(dir, "counts.json");
    if (!existsSync(marker)) {
      process.stderr.write(`generating release ${name} (${n} rows) in ${dir}…\n`);
      const r = await generateRelease({ out: dir, rows: n, seed });
      await writeFile(marker, JSON.stringify(r.counts));
    }
    releases[name] = { dir, counts: JSON.parse(await readFile(marker, "utf8")) as Counts };
  }
  const maxIds = Object.fromEntries(RELEASE_TABLES.map((t) => [t, Math.min(releases.a.counts[t], releases.b.counts[t])])) as Counts;

  const external = process.env.BENCH_DATABASE_URL;
  const cluster = external ? null : await startThrowawayPostgres();
  const url = external ?? (await cluster!.createDatabase("readers"));
  const pgbenchBin = pgToolPath(cluster?.binaries ?? (await findPgBinaries()), "pgbench");
  const results: Record<string, unknown>[] = [];
  try {
    await applyMigrations(url, path.join(ROOT, "prisma/migrations"));
    const tables = [
      { model: "League", file: "leagues.json" },
      { model: "Team", file: "teams.json" },
      { model: "Player", file: "players.json" },
      { model: "Match", file: "matches.json" },
      { model: "PlayerMatchStat", file: "player_match_stats.json" },
    ];
    const config = parseConfig(
      {
        client: ({ url: u }: { url: string }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: u }) }),
        releases: { a: { dir: releases.a.dir, tables }, b: { dir: releases.b.dir, tables } },
      },
      ROOT,
    );
    const etl = new AtomicEtl(config);
    process.stderr.write(`loading release a (${rows} rows)…\n`);
    await etl.import({ release: "a", url, backup: false, strategy: "direct" });
    let current: "a" | "b" = "a";

    for (const strategy of strategies) {
      const next: "a" | "b" = current === "a" ? "b" : "a";
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query("VACUUM ANALYZE");
      await admin.query("CHECKPOINT");
      await admin.end();

      const probe = fork(fileURLToPath(import.meta.url), ["--probe-child"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      probe.send({ url, maxIds });
      await once(probe, "message"); // connected: the probe reads from before the import starts
      const bench = await startPgbench(pgbenchBin, url, path.join(dataDir, "pgbench"), maxIds.player_match_stats);
      await new Promise((r) => setTimeout(r, IDLE_MS)); // the baseline: readers on an idle database

      process.stderr.write(`${strategy}: replacing release ${current} with ${next}…\n`);
      let finalEnd = 0;
      const t0 = Date.now();
      const outcome = await etl
        .import({ release: next, url, backup: false, strategy, hooks: { beforeCommit: () => void (finalEnd = Date.now()) } })
        .then(
          (report) => ({ report, error: null }),
          (e: unknown) => ({ report: e instanceof RunFailed ? e.report : null, error: e as Error }),
        );
      const t1 = Date.now();
      const report = outcome.report;
      const finalStart = outcome.error ? t1 : finalEnd - (report?.phases.apply ?? 0);

      await new Promise((r) => setTimeout(r, 6_000)); // pgbench buffers its log: let the import window reach the file
      probe.send("stop");
      const [probed] = (await once(probe, "message")) as [{ lookups: Sample[]; counts: Sample[] }];
      const pgb = await stopPgbench(bench);
      if (outcome.error) {
        const e = outcome.error instanceof RunFailed ? outcome.error.error : outcome.error;
        process.stderr.write(`${strategy} failed: ${e instanceof EtlError ? e.describe() : e.message}\n`);
        results.push({ strategy, error: e instanceof EtlError ? e.toJSON() : { message: e.message }, importMs: t1 - t0 });
        continue;
      }

      const oldKey = countsKey(releases[current].counts);
      const newKey = countsKey(releases[next].counts);
      const seen = { old: 0, new: 0, other: [] as string[] };
      for (const s of probed.counts.filter((x) => x.at + x.ms >= t0 && x.at <= t1)) {
        if (s.counts === oldKey) seen.old++;
        else if (s.counts === newKey) seen.new++;
        else seen.other.push(s.counts ?? "?");
      }
      const result = {
        strategy,
        rows: report?.rows,
        importMs: t1 - t0,
        finalPhaseMs: report?.phases.apply ?? 0,
        phases: report?.phases,
        probe: {
          idle: stats(probed.lookups, t0 - IDLE_MS, t0),
          import: stats(probed.lookups, t0, t1),
          finalPhase: stats(probed.lookups, finalStart, t1),
        },
        countProbe: { import: stats(probed.counts, t0, t1), seen },
        pgbench: { idle: stats(pgb, t0 - IDLE_MS, t0), import: stats(pgb, t0, t1), finalPhase: stats(pgb, finalStart, t1) },
      };
      results.push(result);
      process.stderr.write(`${JSON.stringify(result)}\n`);
      current = next;
    }
  } finally {
    await cluster?.stop();
  }

  const table = [
    [
      "strategy",
      "import s",
      "final ms",
      "idle max",
      "probe max",
      "probe p99",
      "final max",
      "pgbench max",
      "pgbench p99",
      "pgb final max",
      "counts seen old/new/other",
    ],
    ...results.map((r: any) =>
      r.error
        ? [r.strategy, (r.importMs / 1000).toFixed(1), `failed: ${r.error.code ?? r.error.message}`]
        : [
            r.strategy,
            (r.importMs / 1000).toFixed(1),
            r.finalPhaseMs,
            `${r.probe.idle.maxMs}/${r.pgbench.idle.maxMs}`,
            r.probe.import.maxMs,
            r.probe.import.p99Ms,
            r.probe.finalPhase.maxMs,
            r.pgbench.import.maxMs,
            r.pgbench.import.p99Ms,
            r.pgbench.finalPhase.maxMs,
            `${r.countProbe.seen.old}/${r.countProbe.seen.new}/${r.countProbe.seen.other.length}`,
          ],
    ),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => String(row[i] ?? "").length)));
  process.stdout.write(
    `\nreader stall at ${rows} rows (latencies in ms; machine: ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")})\n`,
  );
  for (const row of table) process.stdout.write(`${row.map((c, i) => String(c).padStart(widths[i]!)).join("  ")}\n`);
  process.stdout.write(
    "probe: one PK lookup per table every ~10 ms; pgbench: point SELECTs at 100 tx/s; idle max: probe/pgbench in the 3 s before the import;\n" +
      "final: from the final phase's start to the run's return; counts: snapshots of every table's row count (other = partial or mixed: must be 0)\n",
  );
  const out = path.join(ROOT, "bench/results", `readers-${rows}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(
    out,
    JSON.stringify(
      { rows, releases: { a: releases.a.counts, b: releases.b.counts }, cpus: os.cpus().length, loadavg: os.loadavg(), results },
      null,
      2,
    ),
  );
  process.stdout.write(`saved ${path.relative(ROOT, out)}\n`);
}

if (process.argv.includes("--probe-child")) await probeChild();
else await main();
