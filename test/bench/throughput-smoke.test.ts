import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/postgres.js";

describe("npm run bench -- --smoke", () => {
  it("should load exactly the same rows with every runner (fingerprints equal), without asserting on time", async () => {
    const r = await execa(process.execPath, ["--import", "tsx", "bench/throughput.ts", "--smoke", "--rows", "5000", "--from-source"], {
      cwd: REPO_ROOT,
      reject: false,
      env: { ...process.env, ATOMIC_ETL_LOG_LEVEL: "warn" },
    });
    expect(r.exitCode, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain("fair: every runner loaded exactly the same rows");
    const file = /results: (\S+)/.exec(r.stdout)?.[1] as string;
    const results = JSON.parse(await readFile(path.join(REPO_ROOT, file), "utf8")) as {
      table: { runner: string; rows: number; sameRowsAsLimit: boolean }[];
    };
    const runners = results.table.map((t) => t.runner);
    expect(runners).toEqual(
      expect.arrayContaining([
        "bulk COPY (pg_restore-style)",
        "COPY (psql \\copy, indexes in place)",
        "Prisma createMany",
        "atomic-etl (direct)",
        "atomic-etl (direct, replacing 1 release, default backup)",
        "atomic-etl (direct, replacing 1 release, --no-backup)",
      ]),
    );
    for (const t of results.table) {
      expect(t.sameRowsAsLimit).toBe(true);
      expect(t.rows).toBe(5000);
    }
  }, 600_000);
});
