/**
 * atomic-etl as Prisma's seed command: `prisma.config.ts` `migrations.seed: "atomic-etl import
 * dev-seed"`, run by the real `prisma db seed` CLI (it runs offline: it only reads the config
 * and runs the command). `atomic-etl` on PATH is the CLI from source, as `npx` would find the
 * installed package's bin.
 */
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import {
  clone,
  expectTableEquals,
  linkNodeModules,
  nextRelease,
  REPO_ROOT,
  sql,
  STANDARD_TABLES,
  stateOf,
  useTestProject,
} from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

const etlConfig = `
import { defineConfig } from ${JSON.stringify(path.join(REPO_ROOT, "src/index.ts"))};
import { PrismaClient } from ${JSON.stringify(path.join(REPO_ROOT, "etl/generated/prisma/client.ts"))};

export default defineConfig({
  client: ({ adapter }) => new PrismaClient({ adapter }),
  releases: { "dev-seed": { tables: ${JSON.stringify(STANDARD_TABLES)} } },
});
`;

const prismaConfig = `
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: ${JSON.stringify(path.join(REPO_ROOT, "prisma/schema.prisma"))},
  migrations: { path: ${JSON.stringify(path.join(REPO_ROOT, "prisma/migrations"))}, seed: "atomic-etl import dev-seed" },
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
`;

async function project(): Promise<void> {
  await mkdir(path.join(ws.root, "etl"), { recursive: true });
  await mkdir(path.join(ws.root, "bin"), { recursive: true });
  await writeFile(path.join(ws.root, "etl/etl.config.ts"), etlConfig);
  await writeFile(path.join(ws.root, "prisma.config.ts"), prismaConfig);
  const bin = path.join(ws.root, "bin/atomic-etl");
  await writeFile(
    bin,
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(path.join(REPO_ROOT, "src/cli/main.ts"))} "$@"\n`,
  );
  await chmod(bin, 0o755);
  await linkNodeModules(ws.root);
}

const seed = () =>
  execa(path.join(REPO_ROOT, "node_modules/.bin/prisma"), ["db", "seed"], {
    cwd: ws.root,
    reject: false,
    env: {
      PATH: `${path.join(ws.root, "bin")}:${process.env.PATH ?? ""}`,
      DATABASE_URL: db.url,
      PRISMA_SCHEMA_ENGINE_BINARY: "/bin/true",
      ATOMIC_ETL_LOG_LEVEL: "warn",
    },
  });

/** The seed release, written where the config's releasesDir (etl/releases) says. */
async function writeSeed(files: Record<string, unknown>): Promise<void> {
  const dir = path.join(ws.root, "etl/releases/dev-seed");
  await mkdir(dir, { recursive: true });
  for (const [f, rows] of Object.entries(files)) await writeFile(path.join(dir, f), JSON.stringify(rows));
}

describe("prisma db seed", () => {
  it("should run atomic-etl's import as the seed command: committed, backed up, in the ledger", async () => {
    await project();
    await writeSeed(nextRelease());
    const r = await seed();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("Running seed command `atomic-etl import dev-seed`");
    const want = nextRelease();
    await expectTableEquals(db.url, "leagues", want["leagues.json"] as Record<string, unknown>[]);
    expect(await sql(db.url, "SELECT count(*)::int AS n FROM players")).toEqual([{ n: 6 }]);
    expect((await readdir(path.join(ws.root, "etl", "backups"))).some((n) => n.endsWith(".manifest.json"))).toBe(true);
    expect(await sql(db.url, "SELECT release, outcome FROM atomic_etl.runs")).toEqual([{ release: "dev-seed", outcome: "committed" }]);
  }, 300_000);

  it("should fail the seed and leave the database exactly as before when a record is bad", async () => {
    await project();
    const files = clone(nextRelease());
    (files["players.json"] as Record<string, unknown>[])[3] = { id: 111, teamId: 11, fullName: null, position: "FORWARD" };
    await writeSeed(files);
    const before = await stateOf(db.url);
    const r = await seed();
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain("VALIDATION_FAILED");
    expect(await stateOf(db.url)).toEqual(before);
  }, 300_000);
});
