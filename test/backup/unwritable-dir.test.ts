/**
 * A backup folder the tool cannot create or write stops the run before anything changes, as
 * BACKUP_FAILED naming the path (not INTERNAL). The tests run as root, for whom permission bits
 * do not apply, so the folders are made unwritable the ways that bind root too: a path under a
 * regular file (ENOTDIR), and a folder marked immutable with chattr +i (EPERM/EACCES), both as
 * the folder itself and as the parent of a folder still to be created.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { RunFailed } from "../../src/reporting/report.js";
import { stateOf, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject({ release: true });

async function importWithBackupDir(backupDir: string) {
  const before = await stateOf(db.url);
  const etl = new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } }, { backupDir }));
  const failure = await etl.import({ release: "r", url: db.url, backup: true }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(RunFailed);
  expect(await stateOf(db.url)).toEqual(before);
  return (failure as RunFailed).report;
}

/** Runs `fn` with `dir` immutable (chattr +i), and makes it mutable again whatever happens. */
async function immutable<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true });
  await execa("chattr", ["+i", dir]);
  try {
    return await fn();
  } finally {
    await execa("chattr", ["-i", dir]);
  }
}

describe("an unwritable backup folder", () => {
  it("should be BACKUP_FAILED naming the path when a part of it is a regular file", async () => {
    const file = path.join(ws.root, "not-a-folder");
    await writeFile(file, "");
    const report = await importWithBackupDir(path.join(file, "backups"));
    expect(report.outcome).toBe("refused");
    expect(report.error).toMatchObject({ code: "BACKUP_FAILED", step: "backup", data: "untouched" });
    expect(report.error?.message).toContain(path.join(file, "backups"));
    expect(report.error?.message).toContain("ENOTDIR");
  });

  it("should be BACKUP_FAILED naming the path when the folder exists but cannot be written", async () => {
    const dir = path.join(ws.root, "read-only");
    const report = await immutable(dir, () => importWithBackupDir(dir));
    expect(report.error).toMatchObject({ code: "BACKUP_FAILED", step: "backup", data: "untouched" });
    expect(report.error?.message).toContain(dir);
  });

  it("should be BACKUP_FAILED naming the path when its parent does not let it be created", async () => {
    const parent = path.join(ws.root, "locked");
    const report = await immutable(parent, () => importWithBackupDir(path.join(parent, "backups")));
    expect(report.error).toMatchObject({ code: "BACKUP_FAILED", step: "backup", data: "untouched" });
    expect(report.error?.message).toContain(path.join(parent, "backups"));
  });
});
