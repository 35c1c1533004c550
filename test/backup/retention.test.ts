import { readdir, rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { markBackupOutcome, type RunOutcome } from "../../src/backup/manifest.js";
import { takeBackup } from "../../src/backup/pg-dump.js";
import { listBackups, pruneBackups } from "../../src/backup/retention.js";
import { ENVIRONMENT_DEFAULTS } from "../../src/config/environments.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { nextRelease, STANDARD_TABLES, useTestDatabase, useTestProject } from "../fixtures/core/kit.js";
import type { FreshDatabase } from "../support/postgres.js";
import { corruptMiddle, downgradeToFormat1 } from "./support.js";

const { db, ws } = useTestProject({ seed: false });
const other = useTestDatabase({ seed: false });

let run = 0;

/** Takes one backup per outcome given, oldest first, each marked with it; returns their ids newest first. */
async function backups(outcomes: (RunOutcome | null)[], opts: { environment?: string; of?: FreshDatabase } = {}): Promise<string[]> {
  const ids: string[] = [];
  for (const outcome of outcomes) {
    run += 1;
    const { manifest, manifestPath } = await takeBackup({
      url: (opts.of ?? db).url,
      schema: "public",
      tables: ["leagues", "teams"],
      dir: ws.backupDir,
      mode: "tables",
      environment: opts.environment ?? "local",
      release: "r",
      releaseHash: null,
      runId: `${String(run).padStart(8, "0")}-retention`,
    });
    if (outcome) await markBackupOutcome(manifestPath, outcome);
    ids.unshift(manifest.id);
  }
  return ids;
}

const committed = (n: number) => Array<RunOutcome>(n).fill("committed");
const ids = async (env = "local") =>
  (await listBackups(ws.backupDir)).filter((b) => b.manifest.environment === env).map((b) => b.manifest.id);
const dumpOf = (id: string) => `${ws.backupDir}/${id}.dump`;

describe("pruneBackups", () => {
  it("should keep the newest N of the environment and leave other environments alone", async () => {
    const local = await backups(committed(4));
    const staging = await backups(committed(2), { environment: "staging" });

    const deleted = await pruneBackups(ws.backupDir, "local", 2, local[0]!);

    expect(deleted.sort()).toEqual(local.slice(2).sort());
    expect(await ids()).toEqual(local.slice(0, 2));
    expect(await ids("staging")).toEqual(staging);
    expect((await readdir(ws.backupDir)).sort()).toEqual(
      [...local.slice(0, 2), ...staging].flatMap((id) => [`${id}.dump`, `${id}.manifest.json`]).sort(),
    );
  });

  it("should count per database: keeping one database's newest never deletes another database's backups", async () => {
    const mine = await backups(committed(3));
    const theirs = await backups(committed(2), { of: other });

    await pruneBackups(ws.backupDir, "local", 1, mine[0]!);

    expect(await ids()).toEqual(expect.arrayContaining([mine[0], ...theirs]));
    expect((await ids()).sort()).toEqual([mine[0]!, ...theirs].sort());
  });

  it("should count only committed backups toward keep, and prune pending and rolled-back ones once older than the newest kept", async () => {
    // newest first: pending (a run still going on?), committed, rolled back, pending, committed, restored
    const [p1, c2, r3, p4, c5, s6] = await backups(["restored", "committed", "pending", "rolled back", "committed", "pending"]);

    const deleted = await pruneBackups(ws.backupDir, "local", 2, p1!);

    expect(await ids()).toEqual([p1, c2, c5]);
    expect(deleted.sort()).toEqual([r3!, p4!, s6!].sort());
  });

  it("should keep every backup while none of its database has committed", async () => {
    const all = await backups(["pending", "rolled back", "pending"]);
    expect(await pruneBackups(ws.backupDir, "local", 1, all[0]!)).toEqual([]);
    expect(await ids()).toEqual(all);
  });

  it("should never prune a format-1 backup: its database is unknown", async () => {
    const [n1, n2, n3] = await backups(committed(3));
    await downgradeToFormat1(dumpOf(n3!));
    await pruneBackups(ws.backupDir, "local", 1, n1!);
    expect(await ids()).toEqual([n1, n3]);
    expect(n2).toBeDefined();
  });

  it("should never delete the newest good backup, however many newer ones are corrupt", async () => {
    const [n1, n2, n3, n4] = await backups(committed(4));
    for (const id of [n1!, n2!, n3!]) await corruptMiddle(dumpOf(id));

    await pruneBackups(ws.backupDir, "local", 2, n1!);

    // n1, n2: the newest two; n4: the newest one that still verifies
    expect(await ids()).toEqual([n1, n2, n4]);
  });

  it("should not count a backup whose dump is missing", async () => {
    const [n1, n2, n3] = await backups(committed(3));
    await rm(dumpOf(n1!));

    await pruneBackups(ws.backupDir, "local", 1, n1!);

    expect(await ids()).toEqual([n1, n2]);
    expect(n3).toBeDefined();
  });

  it("should never delete the backup of the run in progress", async () => {
    const [n1, n2, n3] = await backups(committed(3));
    await pruneBackups(ws.backupDir, "local", 1, n3!);
    expect(await ids()).toEqual([n1, n3]);
    expect(n2).toBeDefined();
  });

  it("should apply keepBackups per database as runs commit", async () => {
    // what the runner does after each COMMIT: mark its backup committed, then prune with it protected
    const taken: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [id] = await backups(committed(1));
      taken.unshift(id!);
      await pruneBackups(ws.backupDir, "local", 2, id!);
    }
    expect(await ids()).toEqual(taken.slice(0, 2));
  });

  it("should never delete another database's backups when imports into two databases share a backup folder (the demo's repro)", async () => {
    await ws.writeRelease("A", nextRelease());
    const etl = new AtomicEtl(ws.config({ A: { tables: STANDARD_TABLES } }, { environments: { local: { keepBackups: 1 } } }));
    for (let i = 0; i < 2; i++) await etl.import({ release: "A", url: db.url, redeploy: true });
    const mine = await ids();

    for (let i = 0; i < 3; i++) await etl.import({ release: "A", url: other.url, redeploy: true });

    expect(mine.length).toBeGreaterThan(0);
    expect(await ids()).toEqual(expect.arrayContaining(mine));
  });

  it("should keep more backups by default in production than in staging, and in staging than locally", () => {
    expect(ENVIRONMENT_DEFAULTS.production.keepBackups).toBeGreaterThan(ENVIRONMENT_DEFAULTS.staging.keepBackups);
    expect(ENVIRONMENT_DEFAULTS.staging.keepBackups).toBeGreaterThan(ENVIRONMENT_DEFAULTS.local.keepBackups);
  });
});
