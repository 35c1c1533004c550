import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { listBackups } from "../../src/backup/retention.js";
import type { RunReport } from "../../src/reporting/report.js";
import {
  clone,
  linkNodeModules,
  nextRelease,
  REPO_ROOT,
  sql,
  stateOf,
  STANDARD_TABLES,
  useTestDatabase,
  useTestWorkspace,
} from "../fixtures/core/kit.js";

/** One workspace (config and releases) for the file; a new seeded database per test. */
const ws = useTestWorkspace({ scope: "suite" });
const db = useTestDatabase();

const TSX = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
const MAIN = path.join(REPO_ROOT, "src", "cli", "main.ts");

/** Runs the real CLI in the workspace, with DATABASE_URL and nothing of the parent's ETL_ENV. */
async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "ETL_ENV" && k !== "DATABASE_URL"));
  const r = await execa(TSX, [MAIN, ...args], {
    cwd: ws.root,
    env: { ...base, DATABASE_URL: db.url, ...env },
    extendEnv: false,
    reject: false,
    timeout: 120_000,
  });
  const secret = decodeURIComponent(new URL(db.url).password);
  // a connection URL's password never reaches the terminal, whatever happened
  if (secret) expect(`${r.stdout}\n${r.stderr}`).not.toContain(secret);
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

const json = (stdout: string) => JSON.parse(stdout) as RunReport;

beforeAll(async () => {
  await linkNodeModules(ws.root);
  const tables = JSON.stringify(STANDARD_TABLES);
  await writeFile(
    path.join(ws.root, "etl.config.ts"),
    `import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from ${JSON.stringify(path.join(REPO_ROOT, "etl/generated/prisma/client.ts"))};

export default {
  client: ({ url }: { url: string }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }),
  releasesDir: "releases",
  backupDir: "backups",
  environments: { local: { batchSize: 100 } },
  releases: {
    good: { tables: ${tables} },
    invalid: { tables: ${tables} },
    orphan: { tables: ${tables} },
    missing: { tables: ${tables} },
    many: { tables: [{ model: "League", file: "leagues.json" }] },
    nosuchtable: { dir: "releases/good", tables: [{ table: "no_such_table", file: "leagues.json" }] },
  },
};
`,
  );
  await ws.writeRelease("good", nextRelease());
  const invalid = clone(nextRelease());
  (invalid["players.json"] as Record<string, unknown>[])[2] = {
    ...(invalid["players.json"] as Record<string, unknown>[])[2],
    heightCm: "tall",
  };
  await ws.writeRelease("invalid", invalid);
  const orphan = clone(nextRelease());
  (orphan["teams.json"] as Record<string, unknown>[])[1] = { ...(orphan["teams.json"] as Record<string, unknown>[])[1], leagueId: 99 };
  await ws.writeRelease("orphan", orphan);
  const missing: Record<string, unknown> = nextRelease();
  delete missing["players.json"];
  await ws.writeRelease("missing", missing as Record<string, Record<string, unknown>[]>);
  await ws.writeRelease("many", {
    "leagues.json": Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, code: `C${i}`, name: `L${i}`, country: "X", season: 2026 })),
  });
});

describe("atomic-etl CLI", () => {
  it("should print help and exit 0", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("import");
    expect(r.stdout).toContain("backups");
    const sub = await cli(["import", "--help"]);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain("--no-backup");
    expect(sub.stdout).toContain("--batch-size");
  });

  it("should import a release and print the JSON report on stdout with --json", async () => {
    const r = await cli(["import", "good", "--config", "etl.config.ts", "--no-backup", "--json"]);
    expect(r.stderr).not.toContain('"level":50');
    expect(r.code).toBe(0);
    const report = json(r.stdout);
    expect(report).toMatchObject({ release: "good", environment: "local", outcome: "committed", rows: 24, error: null, batchSize: 100 });
    expect(report.tables.map((t) => [t.table, t.rowsLoaded])).toEqual([
      ["leagues", 2],
      ["teams", 4],
      ["players", 6],
      ["matches", 4],
      ["player_match_stats", 8],
    ]);
    expect(await sql(db.url, "SELECT id FROM leagues ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("should print a human summary without --json, and take a backup by default", async () => {
    const r = await cli(["import", "good", "--config", "etl.config.ts"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("COMMITTED");
    expect(r.stdout).toContain("player_match_stats");
    expect(r.stdout).toContain("backup:");
  });

  it("should honour --batch-size over the environment's batch size", async () => {
    await sql(db.url, "TRUNCATE leagues CASCADE");
    const r = await cli(["import", "many", "--config", "etl.config.ts", "--no-backup", "--json", "--batch-size", "300"]);
    expect(r.code).toBe(0);
    expect(json(r.stdout).tables[0]).toMatchObject({ rowsLoaded: 1000, batches: 4 });
    const d = await cli(["import", "many", "--config", "etl.config.ts", "--no-backup", "--json", "--redeploy"]);
    expect(json(d.stdout).tables[0]).toMatchObject({ batches: 10 });
  });

  it("should refuse production without --force: exit 2, DANGER on stderr, no backup, nothing touched", async () => {
    const before = await stateOf(db.url);
    const r = await cli(["import", "good", "--config", "etl.config.ts", "--env", "production", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("DANGER");
    expect(r.stderr).toContain("PRODUCTION_REQUIRES_FORCE");
    expect(r.stderr).toContain("--force");
    expect(json(r.stdout)).toMatchObject({ outcome: "refused", environment: "production", backup: null });
    expect(await backupsFor("production")).toBe(0);
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should honour ETL_ENV", async () => {
    const before = await stateOf(db.url);
    const r = await cli(["import", "good", "--config", "etl.config.ts"], { ETL_ENV: "production" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("DANGER");
    expect(await stateOf(db.url)).toEqual(before);
    const s = await cli(["import", "good", "--config", "etl.config.ts", "--no-backup", "--json"], { ETL_ENV: "staging" });
    expect(s.code).toBe(0);
    expect(json(s.stdout).environment).toBe("staging");
  });

  it("should refuse --no-backup in production with NO_BACKUP_FORBIDDEN and an unknown environment with UNKNOWN_ENVIRONMENT", async () => {
    const before = await stateOf(db.url);
    const nb = await cli(["import", "good", "--config", "etl.config.ts", "--env", "production", "--force", "--no-backup"]);
    expect(nb.code).toBe(2);
    expect(nb.stderr).toContain("NO_BACKUP_FORBIDDEN");
    const ue = await cli(["import", "good", "--config", "etl.config.ts", "--env", "prod"]);
    expect(ue.code).toBe(2);
    expect(ue.stderr).toContain("UNKNOWN_ENVIRONMENT");
    expect(await stateOf(db.url)).toEqual(before);
    expect(await backupsFor("production")).toBe(0);
  });

  it("should exit with the code of each error class, naming file, record and field on stderr", async () => {
    const before = await stateOf(db.url);
    const run = (release: string, ...extra: string[]) => cli(["import", release, "--config", "etl.config.ts", "--no-backup", ...extra]);

    const missing = await run("missing");
    expect([missing.code, missing.stderr]).toEqual([3, expect.stringContaining("INPUT_MISSING")]);
    expect(missing.stderr).toContain("releases/missing/players.json");

    const invalid = await run("invalid", "--json");
    expect(invalid.code).toBe(4);
    expect(invalid.stderr).toContain("VALIDATION_FAILED");
    expect(invalid.stderr).toContain("record #2");
    expect(invalid.stderr).toContain('field "heightCm"');
    expect(invalid.stderr).toContain("rolled back; database unchanged");
    expect(json(invalid.stdout)).toMatchObject({
      outcome: "rolled back",
      error: { code: "VALIDATION_FAILED", record: 2, field: "heightCm" },
    });

    const orphan = await run("orphan");
    expect(orphan.code).toBe(5);
    expect(orphan.stderr).toContain("FK_VIOLATION");
    expect(orphan.stderr).toContain("record #1");

    const catalog = await run("nosuchtable");
    expect(catalog.code).toBe(6);
    expect(catalog.stderr).toContain("CATALOG_MISMATCH");

    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should exit 2 on usage and config errors", async () => {
    const bs = await cli(["import", "good", "--config", "etl.config.ts", "--batch-size", "0"]);
    expect([bs.code, bs.stderr]).toEqual([2, expect.stringContaining("--batch-size")]);
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    const noConfig = await cli(["import", "good", "--config", "nope.config.ts"]);
    expect([noConfig.code, noConfig.stderr]).toEqual([2, expect.stringContaining("CONFIG_NOT_FOUND")]);
    const noRelease = await cli(["import", "nope", "--config", "etl.config.ts"]);
    expect([noRelease.code, noRelease.stderr]).toEqual([2, expect.stringContaining("UNKNOWN_RELEASE")]);
    const noUrl = await cli(["import", "good", "--config", "etl.config.ts"], { DATABASE_URL: undefined });
    expect([noUrl.code, noUrl.stderr]).toEqual([2, expect.stringContaining("DATABASE_URL_MISSING")]);
  });
});

async function backupsFor(env: string): Promise<number> {
  return (await listBackups(path.join(ws.root, "backups"))).filter((b) => b.manifest.environment === env).length;
}
