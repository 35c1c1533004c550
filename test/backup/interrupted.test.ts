/**
 * Backups written atomically: `kill -9` of a process while its pg_dump runs leaves no file that
 * looks like a backup; what it left is swept by the next backup and by `atomic-etl backups`,
 * never while a live process is still writing it; `latest` stays on the last committed backup.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { markBackupOutcome } from "../../src/backup/manifest.js";
import { sweepOrphans } from "../../src/backup/orphans.js";
import { takeBackup } from "../../src/backup/pg-dump.js";
import { restoreById } from "../../src/commands/restore.js";
import { listBackups } from "../../src/backup/retention.js";
import { isGoodBackup } from "../../src/backup/verify.js";
import { main } from "../../src/cli/main.js";
import { sql, useTestProject } from "../fixtures/core/kit.js";
import { REPO_ROOT } from "../support/postgres.js";
import { envGuard } from "./support.js";

const CHILD = path.join(REPO_ROOT, "test/backup/take-backup-child.ts");

const { db, ws } = useTestProject({ migrate: false, scope: "suite" });
let restoreEnv: () => void;
let committedId: string;

beforeAll(async () => {
  restoreEnv = envGuard("DATABASE_URL");
  process.env.DATABASE_URL = db.url;
  await sql(
    db.url,
    "CREATE TABLE notes (id int PRIMARY KEY, note text)",
    "INSERT INTO notes VALUES (1, 'the committed state')",
    // big enough that pg_dump runs for seconds
    "CREATE TABLE big AS SELECT i AS id, md5(i::text) || md5((i * 7)::text) AS a, repeat(md5(i::text), 2) AS b FROM generate_series(1, 500000) i",
  );
  const b = await backupOf(["notes"]);
  await markBackupOutcome(b.manifestPath, "committed");
  committedId = b.manifest.id;
});

afterAll(async () => {
  restoreEnv();
});

const backupOf = (tables: string[]) =>
  takeBackup({
    url: db.url,
    schema: "public",
    tables,
    dir: ws.backupDir,
    mode: "tables",
    environment: "local",
    release: "in-process",
    releaseHash: null,
    runId: `${Date.now()}-in-process`,
  });

/** A child process backing up `big`, once its pg_dump has started writing (its temporary dump grows). */
async function childMidDump(): Promise<{ child: ChildProcess; tmp: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD], {
    cwd: REPO_ROOT,
    env: { ...process.env, CHILD_URL: db.url, CHILD_DIR: ws.backupDir, CHILD_TABLES: "big" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  for (let i = 0; i < 600; i++) {
    const tmp = (await readdir(ws.backupDir)).find((n) => n.includes(`.dump.tmp-${child.pid}-`));
    if (tmp && (await stat(path.join(ws.backupDir, tmp)).catch(() => null))?.size) return { child, tmp, exited };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error("the child's pg_dump never started writing");
}

/** Files in the backup folder that a listing, a restore or retention could take for a backup. */
const backupLooking = async () => (await readdir(ws.backupDir)).filter((n) => /\.(dump|manifest\.json)$/.test(n)).sort();

async function cliBackupsJson(): Promise<{ id: string }[]> {
  const configFile = path.join(ws.root, "cli.config.mjs");
  await writeFile(
    configFile,
    `export default { client: () => { throw new Error("unused"); }, backupDir: ${JSON.stringify(ws.backupDir)}, releases: {} };\n`,
  );
  let stdout = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    expect(await main(["node", "atomic-etl", "backups", "--json", "--config", configFile])).toBe(0);
  } finally {
    spy.mockRestore();
  }
  return JSON.parse(stdout) as { id: string }[];
}

describe("interrupted backups", () => {
  it("should leave nothing that looks like a backup after kill -9 during pg_dump, and sweep it in `backups` and at the next backup", async () => {
    const committedFiles = await backupLooking();
    const config = { ...ws.config({}), backupDir: ws.backupDir };

    const first = await childMidDump();
    first.child.kill("SIGKILL");
    await first.exited;
    expect(await backupLooking()).toEqual(committedFiles);
    expect((await listBackups(ws.backupDir)).map((b) => b.manifest.id)).toEqual([committedId]);
    const listed = await cliBackupsJson();
    expect(listed.map((r) => r.id)).toEqual([committedId]);
    expect(await readdir(ws.backupDir)).not.toContain(first.tmp);

    const second = await childMidDump();
    second.child.kill("SIGKILL");
    await second.exited;
    const next = await backupOf(["notes"]);
    expect(next.swept.removed).toContain(second.tmp);
    expect((await readdir(ws.backupDir)).filter((n) => n.includes(".tmp-"))).toEqual([]);

    // the next backup is pending (its run has not ended): latest is still the committed one
    await sql(db.url, "UPDATE notes SET note = 'changed'");
    const r = await restoreById(config, { id: "latest", url: db.url });
    expect(r.id).toBe(committedId);
    expect(await sql(db.url, "SELECT note FROM notes")).toEqual([{ note: "the committed state" }]);
  });

  it("should never touch the temporary files of a backup that a live process is writing", async () => {
    const live = await childMidDump();

    const swept = await sweepOrphans(ws.backupDir);
    await cliBackupsJson();

    expect(swept.inProgress).toContain(live.tmp);
    expect(swept.removed).toEqual([]);
    expect(await readdir(ws.backupDir)).toContain(live.tmp);
    expect(await live.exited).toBe(0);
    const done = (await listBackups(ws.backupDir)).find((b) => b.manifest.runId === `child-${live.child.pid}`);
    expect(done && (await isGoodBackup(done))).toBe(true);
  });
});
