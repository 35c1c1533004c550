import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { envGuard, markRun } from "../backup/support.js";
import { clone, nextRelease, snapshot, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";
import { freshDatabase } from "../support/postgres.js";

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

/** Production holds release A, then B is imported with a backup; returns A's state. */
async function productionAThenB() {
  const b = clone(nextRelease());
  (b["leagues.json"] as Record<string, unknown>[])[0]!.name = "changed by B";
  await ws.writeRelease("A", nextRelease());
  await ws.writeRelease("B", b);
  const etl = new AtomicEtl(ws.config({ A: { tables: STANDARD_TABLES }, B: { tables: STANDARD_TABLES } }));
  await markRun(await etl.import({ release: "A", url: db.url, env: "production", force: true }));
  const a = await stateOf(db.url);
  await markRun(await etl.import({ release: "B", url: db.url, env: "production", force: true }));
  return a;
}

describe("atomic-etl restore", () => {
  it("should refuse production without --force: exit 2, DANGER, nothing touched", async () => {
    await productionAThenB();
    const before = await snapshot(db.url);

    const r = await cli("restore", "latest", "--env", "production");

    expect(r.code).toBe(2);
    expect(r.stderr).toContain("PRODUCTION_REQUIRES_FORCE");
    expect(r.stderr).toContain("DANGER");
    expect(await snapshot(db.url)).toEqual(before);
  });

  it("should restore production with --force and print what it restored", async () => {
    const a = await productionAThenB();

    const r = await cli("restore", "latest", "--env", "production", "--force", "--json");

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tables: ["leagues", "teams", "players", "matches", "player_match_stats"] });
    expect(await stateOf(db.url)).toEqual(a);
  });

  it("should exit 11 with BACKUP_WRONG_DATABASE for another database's backup, and restore it with --into-other-database", async () => {
    const other = await freshDatabase();
    try {
      await ws.writeRelease("A", nextRelease());
      const etl = new AtomicEtl(ws.config({ A: { tables: STANDARD_TABLES } }));
      const otherBefore = await stateOf(other.url);
      const theirs = await etl.import({ release: "A", url: other.url });
      await markRun(theirs);
      const before = await snapshot(db.url);

      const refused = await cli("restore", theirs.backup!.id);
      expect(refused.code).toBe(11);
      expect(refused.stderr).toContain("BACKUP_WRONG_DATABASE");
      expect(refused.stderr).toContain(`is of database ${other.name} (oid `);
      expect(refused.stderr).toContain(`this is database ${db.name} (oid `);
      expect(refused.stderr).toContain("--into-other-database");
      expect(refused.stderr).not.toContain(new URL(db.url).password);
      expect(await snapshot(db.url)).toEqual(before);

      const r = await cli("restore", theirs.backup!.id, "--into-other-database", "--json");
      expect(r.code).toBe(0);
      expect(await stateOf(db.url)).toEqual(otherBefore);
    } finally {
      await other.drop();
    }
  });

  it("should exit 10 with BACKUP_NOT_FOUND for an unknown id", async () => {
    const r = await cli("restore", "20990101T000000Z_local_x_00000000");
    expect(r.code).toBe(10);
    expect(r.stderr).toContain("BACKUP_NOT_FOUND");
  });
});
