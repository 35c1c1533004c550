/**
 * A representative subset of the hostile corpus through the real CLI: the documented exit
 * code, the JSON report's error (code, file, record, field), the human error on stderr, and
 * an unchanged database. The unreadable file runs as the `postgres` OS user when the tests
 * run as root (root passes every access check, so chmod 000 would prove nothing).
 */
import { execFileSync } from "node:child_process";
import { chmod } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../fixtures/core/kit.js";
import { stateDiff } from "../faults/support/db-state.js";
import { REPO_ROOT } from "../faults/support/paths.js";
import { spawnCli } from "../faults/support/spawn-run.js";
import { FILESYSTEM_CASES, UNREADABLE_CASE } from "./support/filesystem-cases.js";
import { type HostileCase, type HostileKit, loadCases, openHostileKit } from "./support/hostile-kit.js";

const CONFIG = path.join(REPO_ROOT, "test/hostile/support/hostile.config.ts");
// one per exit code and failing step; the library test runs every case
const THROUGH_CLI = [
  "truncated-json",
  "null-in-not-null",
  "duplicate-key-across-batches",
  "self-reference-cycle-with-orphan",
  "config-table-injection",
];
const corpus = (await loadCases()).filter((c) => THROUGH_CLI.includes(c.id));
const missing = FILESYSTEM_CASES.find((c) => c.id === "missing-file") as (typeof FILESYSTEM_CASES)[number];
/** The kit's database for the file (the kit drops it on close; the fixture's drop is then a no-op). */
const database = useTestDatabase({ seed: false, scope: "suite" });
let kit: HostileKit;

beforeAll(async () => {
  kit = await openHostileKit(database);
}, 120_000);
afterAll(() => kit?.close());

interface Report {
  outcome: string;
  error: { code: string; message: string; file?: string; record?: number; field?: string; data: string };
}

async function runCli(c: HostileCase, write?: (file: string) => Promise<void>, as?: { uid: number; gid: number }) {
  const r = await kit.release(c, write);
  const env = {
    DATABASE_URL: kit.url,
    HOSTILE_CASE: JSON.stringify({ target: c.target, batchSize: c.batchSize, config: c.config }),
    HOSTILE_DIR: r.dir,
    HOSTILE_FILE: path.basename(r.hostileFile),
    HOSTILE_BACKUP_DIR: kit.backupDir,
  };
  if (as) {
    await chmod(kit.work, 0o755);
    await chmod(r.dir, 0o755);
  }
  const run = await spawnCli(["import", "case", "--config", CONFIG, "--no-backup", "--json"], env, as).done;
  const report = JSON.parse(run.stdout) as Report;
  const x = c.expect;
  expect(run.code, run.stderr).toBe(x.exit);
  expect(report.outcome).toBe(report.error.data === "untouched" ? "refused" : "rolled back");
  expect(["untouched", "rolled back; database unchanged"]).toContain(report.error.data);
  expect(report.error.code).toBe(x.code);
  expect(report.error.message).toContain(x.message);
  expect(report.error.record ?? null).toBe(x.record);
  expect(report.error.field ?? null).toBe(x.field);
  if (x.namesFile) expect(report.error.file?.endsWith(path.basename(r.hostileFile))).toBe(true);
  // the human error: code and step, where, what happened to the data
  expect(run.stderr).toContain(`${x.code} in `);
  if (x.record !== null) expect(run.stderr).toContain(`record #${x.record}`);
  if (x.field !== null) expect(run.stderr).toContain(`field "${x.field}"`);
  expect(run.stderr).toMatch(/data: {2}(untouched|rolled back; database unchanged)/);
  expect(stateDiff(await kit.state(), kit.base)).toEqual([]);
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

describe("hostile input through the CLI", () => {
  it.each(corpus.map((c) => [c.id, c] as const))(
    "should exit with the documented code for %s and change nothing",
    async (_id, c) => {
      await runCli(c);
    },
    120_000,
  );

  it("should exit 3 for a missing file", async () => {
    await runCli(missing, missing.write);
  }, 120_000);

  it("should exit 3 for a file it may not read (as the postgres OS user when root)", async () => {
    await runCli(UNREADABLE_CASE, UNREADABLE_CASE.write, process.getuid?.() === 0 ? postgresUser() : undefined);
  }, 120_000);
});
