import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BackupRow } from "../../src/commands/backups.js";
import { main } from "../../src/cli/main.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { corruptMiddle, envGuard, markRun } from "../backup/support.js";
import { nextRelease, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";
import { type FreshDatabase, freshDatabase } from "../support/postgres.js";

const { db, ws } = useTestProject({ seed: false });
let configFile: string;
let restoreEnv: () => void;

beforeEach(async () => {
  restoreEnv = envGuard("DATABASE_URL");
  process.env.DATABASE_URL = db.url;
  configFile = path.join(ws.root, "cli.config.mjs");
  await writeFile(
    configFile,
    `export default { client: () => { throw new Error("unused"); }, backupDir: ${JSON.stringify(ws.backupDir)}, releases: {} };\n`,
  );
});

afterEach(async () => {
  restoreEnv();
});

/** Runs the CLI in-process; returns its exit code and what it printed on stdout and stderr. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(["node", "atomic-etl", ...args, "--config", configFile]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** Two committed imports with backups into `into` (default: this test's database). */
async function twoImports(into: FreshDatabase = db) {
  await ws.writeRelease("A", nextRelease());
  const etl = new AtomicEtl(ws.config({ A: { tables: STANDARD_TABLES } }));
  const reports = [await etl.import({ release: "A", url: into.url }), await etl.import({ release: "A", url: into.url, redeploy: true })];
  for (const r of reports) await markRun(r);
  return reports;
}

describe("atomic-etl backups", () => {
  it("should list the environment's backups newest first with id, time, release, tables, rows and size (--json)", async () => {
    const [first, second] = await twoImports();

    const { code, stdout } = await cli("backups", "--env", "local", "--json");

    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as BackupRow[];
    expect(rows.map((r) => r.id)).toEqual([second!.backup!.id, first!.backup!.id]);
    expect(rows[1]).toMatchObject({
      release: "A",
      outcome: "committed",
      database: expect.stringContaining(`${db.name} (oid `),
      formatVersion: 2,
      tables: ["leagues", "teams", "players", "matches", "player_match_stats"],
      rows: 0,
      sizeBytes: first!.backup!.sizeBytes,
      state: "ok",
    });
    expect(rows[0]!.rows).toBe(second!.rows);
    expect(Date.parse(rows[0]!.createdAt)).not.toBeNaN();
  });

  it("should print one line per backup, and say so when an environment has none", async () => {
    const [first] = await twoImports();
    const text = await cli("backups");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(first!.backup!.id);
    expect(text.stdout.trim().split("\n")).toHaveLength(3);
    expect((await cli("backups", "--env", "staging")).stdout.trim()).toBe("no backups for staging of this database");
  });

  it("should list only this database's backups by default, and every database's with --all, with a database column", async () => {
    const other = await freshDatabase();
    try {
      const mine = await twoImports();
      const theirs = await twoImports(other);

      const own = JSON.parse((await cli("backups", "--json")).stdout) as BackupRow[];
      expect(own.map((r) => r.id)).toEqual([mine[1]!.backup!.id, mine[0]!.backup!.id]);
      const text = await cli("backups");
      expect(text.stdout).toContain(
        "(2 backup(s) of other databases, schemas or of unknown identity in local not shown: --all lists them)",
      );

      const all = JSON.parse((await cli("backups", "--all", "--json")).stdout) as BackupRow[];
      expect(all.map((r) => r.id).sort()).toEqual([...mine, ...theirs].map((r) => r.backup!.id).sort());
      expect(all.find((r) => r.id === theirs[0]!.backup!.id)!.database).toContain(`${other.name} (oid `);
      const table = (await cli("backups", "--all")).stdout.split("\n");
      expect(table[0]).toMatch(/state\s+database$/);
      expect(table.filter((l) => l.includes(other.name))).toHaveLength(2);
    } finally {
      await other.drop();
    }
  });

  it("should need the database's URL to know which backups are its own, unless --all", async () => {
    await twoImports();
    delete process.env.DATABASE_URL;
    const r = await cli("backups");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("DATABASE_URL_MISSING");
    expect(r.stderr).toContain("--all");
    expect(JSON.parse((await cli("backups", "--all", "--json")).stdout)).toHaveLength(2);
  });

  it("should mark a corrupted dump with --verify", async () => {
    const [first, second] = await twoImports();
    await corruptMiddle(first!.backup!.path);
    const rows = JSON.parse((await cli("backups", "--verify", "--json")).stdout) as BackupRow[];
    expect(rows.map((r) => [r.id, r.state])).toEqual([
      [second!.backup!.id, "ok"],
      [first!.backup!.id, "corrupt"],
    ]);
  });
});
