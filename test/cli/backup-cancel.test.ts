/**
 * A stop during the backup: SIGINT/SIGTERM cancel pg_dump and remove its partial file, and a
 * CLI killed outright (kill -9) takes its pg_dump with it. pg_dump is made slow by a stand-in
 * on PG_BIN_DIR that keeps writing a dump for two minutes (as pg_dump does on a big table, a
 * lock or a slow disk), records its pid, and records whether it was cancelled or ran to its
 * end; pg_restore and psql there are the real ones.
 */
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveClientTool } from "../../src/backup/pg-tools.js";
import { useTestDatabase } from "../fixtures/core/kit.js";
import { type FaultBench, openBench, other } from "../faults/support/fault-bench.js";
import { FAULT_CONFIG } from "../faults/support/paths.js";
import { MEDIUM } from "../faults/support/release-fixture.js";
import { spawnCli } from "../faults/support/spawn-run.js";

/** The bench's database for the file (the bench drops it on close; the fixture's drop is then a no-op). */
const database = useTestDatabase({ seed: false, scope: "suite" });
let bench: FaultBench;
let binDir: string;
let marker: string;
let ended: string;

beforeAll(async () => {
  bench = await openBench({ size: MEDIUM, batchSize: 200, database });
  binDir = path.join(bench.dir, "slow-bin");
  marker = path.join(bench.dir, "pg_dump.pid");
  ended = path.join(bench.dir, "pg_dump.ended");
  await mkdir(binDir);
  for (const tool of ["pg_restore", "psql"] as const) await symlink((await resolveClientTool(tool)).path, path.join(binDir, tool));
  const real = (await resolveClientTool("pg_dump")).path;
  await writeFile(
    path.join(binDir, "pg_dump"),
    `#!/bin/sh
for a in "$@"; do
  case "$a" in
    --version) exec ${JSON.stringify(real)} --version ;;
    --file=*) out="\${a#--file=}" ;;
  esac
done
trap 'echo cancelled > ${JSON.stringify(ended)}; exit 143' TERM INT
printf 'PGDMP' > "$out"
echo $$ > ${JSON.stringify(marker)}
i=0
while [ $i -lt 1200 ]; do printf 'x' >> "$out"; sleep 0.1; i=$((i + 1)); done
echo finished > ${JSON.stringify(ended)}
`,
  );
  await chmod(path.join(binDir, "pg_dump"), 0o755);
}, 180_000);
afterAll(() => bench?.close());

async function waitForDump(): Promise<number> {
  await rm(ended, { force: true });
  for (let i = 0; i < 3000 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
  const pid = Number((await readFile(marker, "utf8")).trim());
  await rm(marker);
  return pid;
}

/** Gone, or a zombie nobody has reaped yet: either way it writes nothing more. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  for (let waited = 0; waited < withinMs; waited += 50) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

const backupFiles = async () => (await readdir(bench.backupDir).catch(() => [] as string[])).sort();

describe("a stop during the backup", () => {
  for (const [signal, code, exit] of [
    ["SIGINT", "INTERRUPTED", 130],
    ["SIGTERM", "TERMINATED", 143],
  ] as const) {
    it(`should cancel pg_dump on ${signal}, remove the partial dump and exit ${exit} with the database unchanged`, async () => {
      const before = bench.current;
      const files = await backupFiles();
      const run = spawnCli(["import", other(before), "--config", FAULT_CONFIG, "--json"], bench.runEnv({ PG_BIN_DIR: binDir }));
      const pid = await waitForDump();
      expect((await backupFiles()).some((f) => f.includes(".dump.tmp-"))).toBe(true);
      run.child.kill(signal);
      const r = await run.done;
      expect(r.code).toBe(exit);
      expect(r.stderr).toContain(`${code.toLowerCase()}: untouched`);
      const report = JSON.parse(r.stdout) as { outcome: string; error: { code: string; data: string } };
      expect(report).toMatchObject({ outcome: "refused", error: { code, data: "untouched" } });
      expect(alive(pid)).toBe(false);
      expect((await readFile(ended, "utf8")).trim()).toBe("cancelled");
      expect(await backupFiles()).toEqual(files);
      expect(await bench.inspect()).toMatchObject({ state: before, clean: true });
    }, 300_000);
  }

  it("should take pg_dump down with a CLI killed by kill -9, leaving the database unchanged", async () => {
    const before = bench.current;
    const run = spawnCli(["import", other(before), "--config", FAULT_CONFIG], bench.runEnv({ PG_BIN_DIR: binDir }));
    const pid = await waitForDump();
    const partial = (await backupFiles()).find((f) => f.includes(".dump.tmp-")) ?? "";
    run.kill();
    await run.done;
    expect(await gone(pid, 5000)).toBe(true);
    const size = (await stat(path.join(bench.backupDir, partial))).size;
    await new Promise((r) => setTimeout(r, 1000));
    expect((await stat(path.join(bench.backupDir, partial))).size).toBe(size);
    expect(existsSync(ended)).toBe(false);
    expect(await bench.inspect()).toMatchObject({ state: before, clean: true });
  }, 300_000);
});
