import { readdir, rm } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { takeBackup } from "../../src/backup/pg-dump.js";
import { listBackups, pruneBackups } from "../../src/backup/retention.js";
import { ENVIRONMENT_DEFAULTS } from "../../src/config/environments.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { nextRelease, STANDARD_TABLES, workspace, type Workspace } from "../fixtures/core/kit.js";
import { type FreshDatabase, freshDatabase } from "../support/postgres.js";
import { corruptMiddle } from "./support.js";

let db: FreshDatabase;
let ws: Workspace;

beforeEach(async () => {
  db = await freshDatabase();
  ws = await workspace();
});

afterEach(async () => {
  await db.drop();
  await ws.cleanup();
});

let run = 0;

/** Takes `n` backups of `environment`, oldest first; returns their ids newest first. */
async function backups(n: number, environment = "local"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    run += 1;
    const { manifest } = await takeBackup({
      url: db.url,
      schema: "public",
      tables: ["leagues", "teams"],
      dir: ws.backupDir,
      mode: "tables",
      environment,
      release: "r",
      releaseHash: null,
      runId: `${String(run).padStart(8, "0")}-retention`,
    });
    ids.unshift(manifest.id);
  }
  return ids;
}

const ids = async (env = "local") =>
  (await listBackups(ws.backupDir)).filter((b) => b.manifest.environment === env).map((b) => b.manifest.id);
const dumpOf = (id: string) => `${ws.backupDir}/${id}.dump`;

describe("pruneBackups", () => {
  it("should keep the newest N of the environment and leave other environments alone", async () => {
    const local = await backups(4);
    const staging = await backups(2, "staging");

    const deleted = await pruneBackups(ws.backupDir, "local", 2);

    expect(deleted.sort()).toEqual(local.slice(2).sort());
    expect(await ids()).toEqual(local.slice(0, 2));
    expect(await ids("staging")).toEqual(staging);
    expect((await readdir(ws.backupDir)).sort()).toEqual(
      [...local.slice(0, 2), ...staging].flatMap((id) => [`${id}.dump`, `${id}.manifest.json`]).sort(),
    );
  });

  it("should never delete the newest good backup, however many newer ones are corrupt", async () => {
    const [n1, n2, n3, n4] = await backups(4);
    for (const id of [n1!, n2!, n3!]) await corruptMiddle(dumpOf(id));

    await pruneBackups(ws.backupDir, "local", 2);

    // n1, n2: the newest two; n4: the newest one that still verifies
    expect(await ids()).toEqual([n1, n2, n4]);
  });

  it("should treat a backup whose dump is missing as not good", async () => {
    const [n1, n2, n3] = await backups(3);
    await rm(dumpOf(n1!));

    await pruneBackups(ws.backupDir, "local", 1);

    expect(await ids()).toEqual([n1, n2]);
    expect(n3).toBeDefined();
  });

  it("should never delete the backup of the run in progress", async () => {
    const [n1, n2, n3] = await backups(3);
    await pruneBackups(ws.backupDir, "local", 1, n3);
    expect(await ids()).toEqual([n1, n3]);
    expect(n2).toBeDefined();
  });

  it("should apply the environment's keepBackups after each committed import", async () => {
    await ws.writeRelease("A", nextRelease());
    const etl = new AtomicEtl(ws.config({ A: { tables: STANDARD_TABLES } }, { environments: { local: { keepBackups: 2 } } }));
    const reports = [];
    for (let i = 0; i < 3; i++) reports.push(await etl.import({ release: "A", url: db.url, redeploy: true }));
    expect(await ids()).toEqual([reports[2]!.backup!.id, reports[1]!.backup!.id]);
  });

  it("should keep more backups by default in production than in staging, and in staging than locally", () => {
    expect(ENVIRONMENT_DEFAULTS.production.keepBackups).toBeGreaterThan(ENVIRONMENT_DEFAULTS.staging.keepBackups);
    expect(ENVIRONMENT_DEFAULTS.staging.keepBackups).toBeGreaterThan(ENVIRONMENT_DEFAULTS.local.keepBackups);
  });
});
