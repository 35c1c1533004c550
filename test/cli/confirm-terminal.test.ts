/**
 * Production on a terminal: without --force, the real CLI under a real pseudo-terminal
 * (test/support/pty-run.py) asks for the database's name; the right name runs the import, a
 * wrong one refuses it with nothing touched. Off a terminal it refuses as before; and an
 * environment detected from the platform's variables is never lowered.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { listBackups } from "../../src/backup/retention.js";
import {
  linkNodeModules,
  nextRelease,
  REPO_ROOT,
  stateOf,
  STANDARD_TABLES,
  useTestDatabase,
  useTestWorkspace,
} from "../fixtures/core/kit.js";

/** One workspace (config and release) for the file; a new seeded database per test. */
const ws = useTestWorkspace({ scope: "suite" });
const db = useTestDatabase();

const TSX = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
const MAIN = path.join(REPO_ROOT, "src", "cli", "main.ts");
const PTY = path.join(REPO_ROOT, "test", "support", "pty-run.py");
const PROMPT = "Type the database name to confirm";
const IMPORT = ["import", "good", "--config", "etl.config.ts", "--env", "eu-production"];

/** The parent's environment without anything that chooses an environment or a database. */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const drop = new Set(["ETL_ENV", "DATABASE_URL", "EU_URL", "VERCEL_ENV", "RAILWAY_ENVIRONMENT_NAME"]);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => !drop.has(k) && v !== undefined)) as Record<
    string,
    string
  >;
  return { ...base, EU_URL: db.url, ...extra };
}

/** The CLI under a pseudo-terminal, typing `answer` at the prompt ("" = Ctrl-D). */
async function onTerminal(args: string[], answer: string): Promise<{ code: number; output: string }> {
  const r = await execa("python3", [PTY, JSON.stringify([TSX, MAIN, ...args]), PROMPT, answer], {
    cwd: ws.root,
    env: childEnv(),
    extendEnv: false,
    timeout: 300_000,
  });
  return JSON.parse(r.stdout) as { code: number; output: string };
}

/** The CLI with stdin, stdout and stderr as pipes: no terminal. */
async function offTerminal(args: string[], extra: Record<string, string> = {}) {
  const r = await execa(TSX, [MAIN, ...args], { cwd: ws.root, env: childEnv(extra), extendEnv: false, reject: false, timeout: 300_000 });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

const backups = async () => (await listBackups(path.join(ws.root, "backups")).catch(() => [])).length;

beforeAll(async () => {
  await linkNodeModules(ws.root);
  await writeFile(
    path.join(ws.root, "etl.config.ts"),
    `import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from ${JSON.stringify(path.join(REPO_ROOT, "etl/generated/prisma/client.ts"))};

export default {
  client: ({ url }: { url: string }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }),
  releasesDir: "releases",
  backupDir: "backups",
  environments: { "eu-production": { extends: "production", databaseUrlEnv: "EU_URL" } },
  releases: { good: { tables: ${JSON.stringify(STANDARD_TABLES)} } },
};
`,
  );
  await ws.writeRelease("good", nextRelease());
});

const dbName = () => decodeURIComponent(new URL(db.url).pathname.slice(1));

describe("production on a terminal", () => {
  it("should refuse a wrong database name, touching nothing", async () => {
    const before = await stateOf(db.url);
    const r = await onTerminal(IMPORT, `${dbName()}_typo`);
    expect(r.output).toContain(`database "${dbName()}"`);
    expect(r.code).toBe(2);
    expect(r.output).toContain("CONFIRMATION_REFUSED");
    expect(r.output).toContain("nothing was touched");
    expect(await stateOf(db.url)).toEqual(before);
    expect(await backups()).toBe(0);
  }, 600_000);

  it("should run the import once the database's name is typed, saying how the environment was chosen", async () => {
    const before = await stateOf(db.url);
    const r = await onTerminal(IMPORT, dbName());
    expect(r.code).toBe(0);
    expect(r.output).toContain("confirmed on the terminal");
    expect(r.output).toContain("good → eu-production (--env): COMMITTED");
    expect(await stateOf(db.url)).not.toEqual(before);
    expect((await listBackups(path.join(ws.root, "backups"))).map((b) => b.manifest.environment)).toEqual(["eu-production"]);
  }, 600_000);

  it("should refuse without asking when stdin is not a terminal: PRODUCTION_REQUIRES_FORCE, exit 2", async () => {
    const before = await stateOf(db.url);
    const r = await offTerminal(IMPORT);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("PRODUCTION_REQUIRES_FORCE");
    expect(r.stderr).not.toContain(PROMPT);
    expect(await stateOf(db.url)).toEqual(before);
  }, 600_000);

  it("should never let --env local lower a production detected from the platform's variables", async () => {
    const before = await stateOf(db.url);
    const r = await offTerminal(["import", "good", "--config", "etl.config.ts", "--env", "local", "--no-backup"], {
      VERCEL_ENV: "production",
      DATABASE_URL: db.url,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("ENVIRONMENT_LOOSER_THAN_DETECTED");
    expect(r.stderr).toContain("VERCEL_ENV=production");
    expect(await stateOf(db.url)).toEqual(before);
  }, 600_000);
});
