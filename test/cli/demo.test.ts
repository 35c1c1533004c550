/**
 * `npm run demo` against a given DATABASE_URL: the demo's backups go into a temporary folder of
 * its own (kept and named, since they are backups of that database), never into the repository's
 * backups/ beside real ones.
 */
import { readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { listBackups } from "../../src/backup/retention.js";
import { REPO_ROOT, useTestDatabase } from "../fixtures/core/kit.js";

/** An empty database: the demo applies the example schema's migrations itself. */
const db = useTestDatabase({ migrate: false, seed: false });

/** Every file under `dir`, relative to it. */
const filesUnder = async (dir: string) => (await readdir(dir, { recursive: true }).catch(() => [] as string[])).sort();

describe("npm run demo", () => {
  it("should keep its backups in a temporary folder of its own, leaving the repository's backups/ as it was", async () => {
    const repoBackups = path.join(REPO_ROOT, "backups");
    const before = await filesUnder(repoBackups);
    // --ignore-scripts: predemo regenerates the Prisma client, which the test run already did
    const r = await execa("npm", ["run", "--ignore-scripts", "demo"], {
      cwd: REPO_ROOT,
      env: { DATABASE_URL: db.url },
      all: true,
      reject: false,
      timeout: 240_000,
    });
    const output = r.all ?? "";
    expect(r.exitCode, output.slice(-3000)).toBe(0);
    expect(output).toContain("COMMITTED");
    const kept = /the demo's backups of your database are in (\S+)/.exec(output)?.[1];
    expect(kept, output.slice(-3000)).toBeDefined();
    const dir = kept as string;
    try {
      expect(path.relative(REPO_ROOT, dir).startsWith("..")).toBe(true);
      expect(dir.startsWith(os.tmpdir())).toBe(true);
      // the first import and the redeploy each backed up first, there
      expect((await listBackups(dir)).length, `${dir}: ${(await filesUnder(dir)).join(", ")}`).toBeGreaterThanOrEqual(2);
      expect(await filesUnder(repoBackups)).toEqual(before);
    } finally {
      await rm(path.dirname(dir), { recursive: true, force: true });
    }
  }, 300_000);
});
