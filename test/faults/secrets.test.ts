/**
 * The database password never reaches argv (of the run or its pg_dump child), the logs, the
 * report or the backup manifests, even when it holds URL-special characters; backup files are 0600.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultBench, openBench } from "./support/fault-bench.js";
import { sleep } from "./support/fault-cluster.js";
import { FAULT_CONFIG } from "./support/paths.js";
import { SMALL } from "./support/release-fixture.js";
import { spawnCli } from "./support/spawn-run.js";

const PASSWORD = `Fault!P@ss:w0rd/%zz#${Math.random().toString(36).slice(2, 10)}`;
const FORMS = [PASSWORD, encodeURIComponent(PASSWORD)];
let bench: FaultBench;

beforeAll(async () => {
  bench = await openBench({ size: SMALL, batchSize: 5, password: PASSWORD });
}, 180_000);
afterAll(() => bench?.close());

const readCmdline = async (pid: number) => (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0").join(" ");

/** Every descendant of `pid` (through /proc/<pid>/task/<pid>/children). */
async function descendantsOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  const kids = text.split(/\s+/).filter(Boolean).map(Number);
  return [...kids, ...(await Promise.all(kids.map(descendantsOf))).flat()];
}

const expectNoSecret = (label: string, text: string) => {
  for (const f of FORMS) expect(text.includes(f), `${label} contains the password`).toBe(false);
};

describe("secrets", () => {
  it("should keep the password off argv, logs, the report and manifests, and write backups 0600", async () => {
    // a whole-database backup must lock this table too: holding it makes pg_dump wait where we can see it
    const blocker = new pg.Client({ connectionString: bench.url });
    await blocker.connect();
    await blocker.query("CREATE TABLE IF NOT EXISTS secret_side (id int)");
    await blocker.query("BEGIN");
    await blocker.query("LOCK TABLE secret_side IN ACCESS EXCLUSIVE MODE");
    const run = spawnCli(["import", "A", "--config", FAULT_CONFIG, "--backup", "full", "--json"], bench.runEnv());
    let dumpCmdline = "";
    try {
      for (let i = 0; !dumpCmdline; i++) {
        for (const child of await descendantsOf(run.pid)) {
          const cmd = await readCmdline(child);
          if (/pg_dump/.test(cmd) && cmd.includes("--snapshot")) dumpCmdline = cmd;
        }
        if (i > 1200) throw new Error(`pg_dump never showed up:\n${run.lines.map((l) => l.raw).join("\n")}`);
        await sleep(50);
      }
      expectNoSecret("the run's command line", await readCmdline(run.pid));
    } finally {
      await blocker.query("COMMIT");
      await blocker.end();
    }
    expect(dumpCmdline).toContain("--format=custom");
    expectNoSecret("pg_dump's command line", dumpCmdline);
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expectNoSecret("the logs", r.stderr);
    expectNoSecret("the report", r.stdout);
    const report = JSON.parse(r.stdout) as { backup: { path: string } };
    const files = await readdir(bench.backupDir);
    expect(files.some((f) => f.endsWith(".manifest.json"))).toBe(true);
    for (const f of files) {
      const p = path.join(bench.backupDir, f);
      expect(((await stat(p)).mode & 0o777).toString(8), f).toBe("600");
      expectNoSecret(f, await readFile(p, "latin1"));
    }
    expect(files).toContain(path.basename(report.backup.path));
  });

  it("should keep the password out of the error when the server cannot be reached", async () => {
    const u = new URL(bench.url);
    u.port = String(Number(u.port) + 1);
    const r = await spawnCli(["import", "A", "--config", FAULT_CONFIG, "--json"], bench.runEnv({ DATABASE_URL: u.toString() })).done;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ECONNREFUSED|connect/);
    expectNoSecret("the error output", r.stderr + r.stdout);
  });
});
