import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BackupRow } from "../../src/cli/backups-command.js";
import { main } from "../../src/cli/main.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { corruptMiddle } from "../backup/support.js";
import { nextRelease, STANDARD_TABLES, workspace, type Workspace } from "../fixtures/core/kit.js";
import { type FreshDatabase, freshDatabase } from "../support/postgres.js";

let db: FreshDatabase;
let ws: Workspace;
let configFile: string;

beforeEach(async () => {
  db = await freshDatabase();
  ws = await workspace();
  configFile = path.join(ws.root, "cli.config.mjs");
  await writeFile(
    configFile,
    `export default { client: () => { throw new Error("unused"); }, backupDir: ${JSON.stringify(ws.backupDir)}, releases: {} };\n`,
  );
});

afterEach(async () => {
  await db.drop();
  await ws.cleanup();
});

/** Runs the CLI in-process; returns its exit code and what it printed on stdout. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    return { code: await main(["node", "atomic-etl", ...args, "--config", configFile]), stdout };
  } finally {
    spy.mockRestore();
  }
}

async function twoImports() {
  await ws.writeRelease("A", nextRelease());
  const etl = new AtomicEtl(ws.config({ A: { tables: STANDARD_TABLES } }));
  return [await etl.import({ release: "A", url: db.url }), await etl.import({ release: "A", url: db.url, redeploy: true })];
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
    expect((await cli("backups", "--env", "staging")).stdout.trim()).toBe("no backups for staging");
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
