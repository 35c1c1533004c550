import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { expectTableEquals, REPO_ROOT, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject({ seed: false });

const FILES = [
  ["leagues.json", "leagues"],
  ["teams.json", "teams"],
  ["players.json", "players"],
  ["matches.json", "matches"],
  ["player_match_stats.json", "player_match_stats"],
] as const;

async function records(release: string, file: string): Promise<Record<string, unknown>[]> {
  return JSON.parse(await readFile(path.join(REPO_ROOT, "etl", "releases", release, file), "utf8")) as Record<string, unknown>[];
}

async function expectRelease(release: string): Promise<number> {
  let total = 0;
  for (const [file, table] of FILES) {
    const rs = await records(release, file);
    total += rs.length;
    await expectTableEquals(db.url, table, rs, { goals: "0", assists: "0", created_at: expect.any(String) });
  }
  return total;
}

describe("AtomicEtl.import (the example releases)", () => {
  it("should import league-2026 and then its column-keyed hotfix with the example config, row for row", async () => {
    const loaded = await loadConfig("etl/etl.config.ts", REPO_ROOT);
    // everything as configured, except that backups go to a temp folder
    const etl = new AtomicEtl({ ...loaded, backupDir: ws.backupDir });

    const first = await etl.import({ release: "league-2026", url: db.url, env: "local" });
    expect(first.outcome).toBe("committed");
    expect(first.backup).not.toBeNull();
    expect(first.checks.map((c) => c.passed)).toEqual([true, true]);
    expect(first.tables.every((t) => t.keyMode === "fields")).toBe(true);
    expect(first.rows).toBe(await expectRelease("league-2026"));

    const hotfix = await etl.import({ release: "league-2026-hotfix", url: db.url, env: "local" });
    expect(hotfix.outcome).toBe("committed");
    expect(hotfix.tables.map((t) => t.rowsBefore)).toEqual(first.tables.map((t) => t.rowsLoaded));
    expect(hotfix.rows).toBe(await expectRelease("league-2026-hotfix"));
  });
});
