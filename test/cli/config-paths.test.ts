/**
 * The paths in a config resolve from the config file's folder, not from where the CLI runs:
 * the same command finds the same releases and writes the same backup folder from anywhere.
 * Paths typed on the command line (`--out`) stay relative to the working directory.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { linkNodeModules, nextRelease, REPO_ROOT, sql, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject({ scope: "suite" });
let elsewhere: string;

const TSX = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
const MAIN = path.join(REPO_ROOT, "src", "cli", "main.ts");

async function cli(args: string[]) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "ETL_ENV" && k !== "DATABASE_URL"));
  return execa(TSX, [MAIN, ...args], {
    cwd: elsewhere,
    env: { ...base, DATABASE_URL: db.url },
    extendEnv: false,
    reject: false,
    timeout: 120_000,
  });
}

beforeAll(async () => {
  await linkNodeModules(ws.root);
  await mkdir(path.join(ws.root, "etl"));
  await writeFile(
    path.join(ws.root, "etl", "etl.config.ts"),
    `import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from ${JSON.stringify(path.join(REPO_ROOT, "etl/generated/prisma/client.ts"))};

export default {
  client: ({ url }: { url: string }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }),
  releasesDir: "../releases",
  backupDir: "dumps",
  releases: { good: { tables: ${JSON.stringify(STANDARD_TABLES)} } },
};
`,
  );
  await ws.writeRelease("good", nextRelease());
  elsewhere = path.join(ws.root, "somewhere", "else");
  await mkdir(elsewhere, { recursive: true });
}, 120_000);

describe("paths in a config", () => {
  it("should resolve releasesDir and backupDir from the config file's folder when run from another folder", async () => {
    const r = await cli(["import", "good", "-c", "../../etl/etl.config.ts", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: "committed", rows: expect.any(Number) });
    expect(await sql(db.url, "SELECT count(*)::int AS n FROM leagues")).toEqual([{ n: nextRelease()["leagues.json"]?.length }]);
    const dumps = await readdir(path.join(ws.root, "etl", "dumps"));
    expect(dumps.filter((f) => f.endsWith(".dump"))).toHaveLength(1);
    expect(dumps.filter((f) => f.endsWith(".manifest.json"))).toHaveLength(1);
    expect(await readdir(elsewhere)).toEqual([]);
  }, 120_000);

  it("should list the same backups from any folder", async () => {
    const r = await cli(["backups", "-c", path.join(ws.root, "etl", "etl.config.ts"), "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(1);
  }, 120_000);

  it("should write --out relative to the working directory, not the config's folder", async () => {
    const r = await cli(["export", "good", "--from", "local", "--out", "exported", "-c", "../../etl/etl.config.ts"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(path.join(elsewhere, "exported", "leagues.json"))).toBe(true);
    expect(existsSync(path.join(ws.root, "etl", "exported"))).toBe(false);
  }, 120_000);
});
