/**
 * `npx tsx bench/cpu-split.ts [--rows 1000000] [--runs 2]`: where the CPU goes, for the
 * bulk-COPY limit and atomic-etl `direct` (the built CLI, no backup), on the same release and
 * database. Per runner: wall time, the client's CPU (user + system, from /usr/bin/time) and the
 * server's (every postgres process of the throwaway cluster, from /proc, exited backends
 * included through the postmaster's children totals). `cores busy` = (client + server) / wall:
 * on this 2-core machine a value near 2 means the run is CPU-bound, so moving work to more
 * threads cannot make it faster; only less work can. Linux only. Never asserts on time.
 */
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { libpqEnv, resolveClientTool } from "../src/backup/pg-tools.js";
import { bulkCopyScript } from "./bulk-copy.js";
import { arg, benchDatabase, benchRelease, emptyTables, median, writeBenchConfig } from "./support.js";

const rows = Number(arg("rows", "1000000"));
const runs = Number(arg("runs", "2"));
const TICK_MS = 10; // USER_HZ = 100 on Linux

/** CPU ms of every process whose command is `postgres` (live ones, plus the reaped children of each). */
async function postgresCpuMs(): Promise<number> {
  let ticks = 0;
  for (const pid of (await readdir("/proc")).filter((d) => /^\d+$/.test(d))) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    const m = /^\d+ \((.*)\) (.*)$/s.exec(stat);
    if (!m || m[1] !== "postgres") continue;
    const f = (m[2] as string).split(" "); // f[0] is field 3 (state): utime is field 14
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks * TICK_MS;
}

async function measure(cmd: string, args: string[], env: Record<string, string>) {
  const server0 = await postgresCpuMs();
  const t0 = performance.now();
  const r = await execa("/usr/bin/time", ["-f", "CPU %U %S", cmd, ...args], { env, reject: false, stdin: "ignore" });
  const wallMs = performance.now() - t0;
  await new Promise((res) => setTimeout(res, 300)); // let the postmaster reap the backend
  const serverMs = (await postgresCpuMs()) - server0;
  if (r.exitCode !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(-1000)}`);
  const [, u, s] = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr) ?? [];
  const clientMs = (Number(u) + Number(s)) * 1000;
  return { wallMs, clientMs, serverMs };
}

const db = await benchDatabase();
try {
  const rel = await benchRelease(rows);
  const env = { ...process.env, ...libpqEnv(db.url), DATABASE_URL: db.url, ATOMIC_ETL_LOG_LEVEL: "warn" } as Record<string, string>;
  const psql = await resolveClientTool("psql");
  const script = path.join(path.dirname(rel.dir), "bulk-copy.sql");
  await writeFile(script, bulkCopyScript(rel.csvDir));
  const config = path.resolve(`bench/data/cpu-split-${process.pid}.config.ts`);
  await writeBenchConfig(config, rel.dir, "({ adapter }) => new PrismaClient({ adapter })");
  await execa("npm", ["run", "build", "--silent"], { stdio: "inherit" });
  const runners: Record<string, [string, string[]]> = {
    "bulk COPY (pg_restore-style)": [psql.path, ["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-f", script]],
    "atomic-etl (direct)": [
      process.execPath,
      ["dist/cli/main.js", "import", "bench", "--config", config, "--no-backup", "--redeploy", "--json"],
    ],
  };
  const samples = new Map<string, { wallMs: number; clientMs: number; serverMs: number }[]>();
  for (let i = 0; i < runs; i++) {
    for (const [name, [cmd, args]] of i % 2 ? Object.entries(runners).reverse() : Object.entries(runners)) {
      await emptyTables(db.url);
      process.stderr.write(`run ${i + 1}/${runs}: ${name}…\n`);
      samples.set(name, [...(samples.get(name) ?? []), await measure(cmd, args, env)]);
    }
  }
  const table = [...samples].map(([runner, s]) => {
    const m = (k: "wallMs" | "clientMs" | "serverMs") => Math.round(median(s.map((x) => x[k])));
    return {
      runner,
      wallMs: m("wallMs"),
      clientCpuMs: m("clientMs"),
      serverCpuMs: m("serverMs"),
      coresBusy: Number(((m("clientMs") + m("serverMs")) / m("wallMs")).toFixed(2)),
    };
  });
  console.log(`\n${rows} rows, ${runs} run(s) each, median:`);
  console.table(table);
  await rm(config, { force: true });
} finally {
  await db.stop();
}
