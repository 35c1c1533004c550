import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { temporaryPathOf } from "../../src/backup/backup-files.js";
import { sweepOrphans } from "../../src/backup/orphans.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-orphans-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const ID = "20261121T212749Z_local_r_01234567";

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const p = spawn("true");
  await new Promise((r) => p.on("exit", r));
  return p.pid as number;
}

/** This host's temporary name for `final`, as written by process `pid`. */
const tmpOf = (final: string, pid: number) => path.basename(temporaryPathOf(path.join(dir, final))).replace(`-${process.pid}-`, `-${pid}-`);

const touch = (name: string) => writeFile(path.join(dir, name), "x");

describe("sweepOrphans", () => {
  it("should remove temporary files of dead processes and keep those of live ones, and other hosts'", async () => {
    const dead = await deadPid();
    const files = [
      tmpOf(`${ID}.dump`, dead),
      tmpOf(`${ID}.manifest.json`, dead),
      tmpOf(`${ID}x.dump`, process.pid),
      `${ID}.dump.tmp-1-elsewhere`,
    ];
    for (const f of files) await touch(f);

    const r = await sweepOrphans(dir);

    expect(r.removed.sort()).toEqual([files[0], files[1]].sort());
    expect(r.inProgress).toEqual([files[2]]);
    expect(r.leftAlone).toEqual([{ file: files[3], why: "written on host elsewhere: its process cannot be checked from here" }]);
    expect((await readdir(dir)).sort()).toEqual([files[2], files[3]].sort());
  });

  it("should remove a dump whose writer died before renaming its manifest, and leave a live writer's", async () => {
    const dead = await deadPid();
    await touch(`${ID}.dump`);
    await touch(tmpOf(`${ID}.manifest.json`, dead));
    await touch(`${ID}b.dump`);
    await touch(tmpOf(`${ID}b.manifest.json`, process.pid));

    const r = await sweepOrphans(dir);

    expect(r.removed.sort()).toEqual([`${ID}.dump`, tmpOf(`${ID}.manifest.json`, dead)].sort());
    expect((await readdir(dir)).sort()).toEqual([`${ID}b.dump`, tmpOf(`${ID}b.manifest.json`, process.pid)].sort());
  });

  it("should remove an old dump without manifest, leave a recent one (an older version may be writing it) and never touch finished backups or other files", async () => {
    await touch(`${ID}.dump`);
    const hoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(path.join(dir, `${ID}.dump`), hoursAgo, hoursAgo);
    await touch(`${ID}r.dump`);
    await touch(`${ID}k.dump`);
    await touch(`${ID}k.manifest.json`);
    await touch("notes.dump");

    const r = await sweepOrphans(dir);

    expect(r.removed).toEqual([`${ID}.dump`]);
    expect(r.leftAlone.map((x) => x.file)).toEqual([`${ID}r.dump`]);
    expect((await readdir(dir)).sort()).toEqual([`${ID}k.dump`, `${ID}k.manifest.json`, `${ID}r.dump`, "notes.dump"].sort());
  });

  it("should find nothing in a folder that does not exist", async () => {
    expect(await sweepOrphans(path.join(dir, "none"))).toEqual({ removed: [], inProgress: [], leftAlone: [] });
  });
});
