/**
 * The published package works on its own: build, `npm pack`, install the tarball into a
 * different project with a different Prisma schema, and import a release through the
 * installed `atomic-etl` bin. Prisma itself is linked from this repository's node_modules
 * (no download); the tarball's own dependencies come from the npm cache when it has them.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "../../src/reporting/report.js";
import { REPO_ROOT, sql } from "../fixtures/core/kit.js";
import { type FreshDatabase, freshDatabase } from "../support/postgres.js";

let tmp: string;
let project: string;
let db: FreshDatabase;

const SCHEMA = `generator client {
  provider     = "prisma-client"
  output       = "../generated/prisma"
  moduleFormat = "esm"
}

datasource db {
  provider = "postgresql"
}

model Country {
  code String @id @db.VarChar(2)
  name String

  @@map("countries")
}
`;

const CONFIG = `
import { defineConfig } from "atomic-etl";
import { PrismaClient } from "./generated/prisma/client.js";

export default defineConfig({
  client: ({ adapter }) => new PrismaClient({ adapter }),
  releasesDir: "data",
  backupDir: "dumps",
  releases: {
    "countries-2026": { tables: [{ model: "Country", file: "countries.json" }] },
    "countries-broken": { tables: [{ model: "Country", file: "countries.json" }] },
  },
});
`;

const COUNTRIES = [
  { code: "NL", name: "Netherlands" },
  { code: "JP", name: "日本" },
  { code: "BR", name: "Brasil" },
];

function env(): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== "ETL_ENV" && !k.startsWith("npm_")),
  ) as Record<string, string>;
  return { ...base, DATABASE_URL: db.url, PRISMA_SCHEMA_ENGINE_BINARY: "/bin/true" };
}

const bin = () => path.join(project, "node_modules", ".bin", "atomic-etl");

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-pack-"));
  project = path.join(tmp, "consumer");
  db = await freshDatabase({ migrate: false });

  await execa("npm", ["run", "build"], { cwd: REPO_ROOT, env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: "/bin/true" } });
  const packed = await execa("npm", ["pack", "--json", "--pack-destination", tmp], { cwd: REPO_ROOT });
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  if (!info) throw new Error(`npm pack printed no file: ${packed.stdout}`);
  const tarball = path.join(tmp, info.filename);

  await mkdir(path.join(project, "prisma"), { recursive: true });
  await writeFile(
    path.join(project, "package.json"),
    JSON.stringify({ name: "pack-consumer", private: true, type: "module", dependencies: { "atomic-etl": `file:${tarball}` } }, null, 2),
  );
  // the peer dependencies are linked below, not installed
  await execa("npm", ["install", "--prefer-offline", "--legacy-peer-deps", "--no-audit", "--no-fund"], { cwd: project, env: env() });
  await mkdir(path.join(project, "node_modules", "@prisma"), { recursive: true });
  for (const p of ["@prisma/client", "@prisma/adapter-pg", "prisma"]) {
    await symlink(path.join(REPO_ROOT, "node_modules", p), path.join(project, "node_modules", p), "dir");
  }
  await writeFile(path.join(project, "prisma", "schema.prisma"), SCHEMA);
  await execa(process.execPath, [path.join(project, "node_modules", "prisma", "build", "index.js"), "generate"], {
    cwd: project,
    env: env(),
  });
  await writeFile(path.join(project, "etl.config.ts"), CONFIG);
  await mkdir(path.join(project, "data", "countries-2026"), { recursive: true });
  await writeFile(path.join(project, "data", "countries-2026", "countries.json"), JSON.stringify(COUNTRIES, null, 2));
  await mkdir(path.join(project, "data", "countries-broken"), { recursive: true });
  await writeFile(
    path.join(project, "data", "countries-broken", "countries.json"),
    JSON.stringify([...COUNTRIES, { code: "USA", name: "too long a code" }]),
  );

  await sql(
    db.url,
    `CREATE TABLE countries (code varchar(2) PRIMARY KEY, name text NOT NULL)`,
    `INSERT INTO countries VALUES ('XX', 'Old country')`,
  );
}, 600_000);

afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("npm pack", () => {
  it("should pack only the build output, with the bin and the types", async () => {
    const pkg = JSON.parse(await readFile(path.join(project, "node_modules", "atomic-etl", "package.json"), "utf8")) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin["atomic-etl"]).toBe("./dist/cli/main.js");
    const files = await readdir(path.join(project, "node_modules", "atomic-etl"));
    expect(files).not.toContain("src");
    expect(files).not.toContain("test");
    expect(files).toContain("dist");
    const dist = await readdir(path.join(project, "node_modules", "atomic-etl", "dist"));
    expect(dist).toEqual(expect.arrayContaining(["index.js", "index.d.ts", "cli"]));
  });

  it("should run the installed bin: --help exits 0", async () => {
    const r = await execa(bin(), ["--help"], { cwd: project, env: env(), reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("import");
  });

  it("should import a release into another project's schema through the installed bin", async () => {
    const r = await execa(bin(), ["import", "countries-2026", "--config", "etl.config.ts", "--json"], {
      cwd: project,
      env: env(),
      reject: false,
    });
    expect(r.stderr).not.toContain('"level":50');
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout) as RunReport;
    expect(report).toMatchObject({ release: "countries-2026", outcome: "committed", rows: 3 });
    expect(report.tables[0]).toMatchObject({ table: "countries", model: "Country", rowsBefore: 1, rowsLoaded: 3 });
    expect(report.backup).not.toBeNull();
    expect(await sql(db.url, "SELECT code, name FROM countries ORDER BY code")).toEqual([
      { code: "BR", name: "Brasil" },
      { code: "JP", name: "日本" },
      { code: "NL", name: "Netherlands" },
    ]);
  });

  it("should refuse a bad release through the installed bin with exit 4, leaving the rows as they were", async () => {
    const before = await sql(db.url, "SELECT code, name FROM countries ORDER BY code");
    const r = await execa(bin(), ["import", "countries-broken", "--config", "etl.config.ts", "--no-backup"], {
      cwd: project,
      env: env(),
      reject: false,
    });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain("VALIDATION_FAILED");
    expect(r.stderr).toContain("record #3");
    expect(await sql(db.url, "SELECT code, name FROM countries ORDER BY code")).toEqual(before);
  });
});
