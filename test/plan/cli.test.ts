import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import type { RunReport } from "../../src/reporting/report.js";
import { clone, linkNodeModules, nextRelease, REPO_ROOT, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject({ release: true });
let configFile = "";
const saved = { url: process.env.DATABASE_URL, env: process.env.ETL_ENV };

beforeEach(async () => {
  await linkNodeModules(ws.root);
  configFile = path.join(ws.root, "etl.config.ts");
  await writeFile(
    configFile,
    `import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from ${JSON.stringify(path.join(REPO_ROOT, "etl/generated/prisma/client.ts"))};
export default {
  client: ({ url }: { url: string }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }),
  releasesDir: ${JSON.stringify(path.join(ws.root, "releases"))},
  backupDir: ${JSON.stringify(ws.backupDir)},
  releases: { r: { tables: ${JSON.stringify(STANDARD_TABLES)} } },
};
`,
  );
  process.env.DATABASE_URL = db.url;
  delete process.env.ETL_ENV;
});

afterEach(() => {
  process.env.DATABASE_URL = saved.url;
  if (saved.env === undefined) delete process.env.ETL_ENV;
  else process.env.ETL_ENV = saved.env;
});

/** The CLI in-process: exit code, stdout and stderr. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, "write").mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  try {
    return { code: await main(["node", "atomic-etl", ...args, "--config", configFile]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe("atomic-etl plan, history, status", () => {
  it("should print a plan and exit 0, in production without --force, writing nothing", async () => {
    const before = await stateOf(db.url);
    const r = await cli("plan", "r", "--env", "production");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("atomic-etl plan r → production: DEPLOYABLE");
    expect(r.stdout).toMatch(/players\s+direct\s+primary key\s+2\s+6\s+6\s+0\s+2\s+0/);
    expect(r.stdout).toMatch(/deploy exactly this plan: atomic-etl import r --env production --expect-plan [0-9a-f]{64}/);
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should deploy the plan it printed as JSON, refuse it once the data changed (exit 18), and show the ledger", async () => {
    const plan = JSON.parse((await cli("plan", "r", "--json")).stdout) as RunReport;
    expect(plan.outcome).toBe("planned");
    await sql(db.url, "UPDATE teams SET founded = 1 WHERE id = 70");
    const refused = await cli("import", "r", "--expect-plan", plan.planHash as string, "--no-backup");
    expect(refused.code).toBe(18);
    expect(refused.stderr).toContain("PLAN_MISMATCH");
    const again = JSON.parse((await cli("plan", "r", "--json")).stdout) as RunReport;
    expect((await cli("import", "r", "--expect-plan", again.planHash as string, "--no-backup")).code).toBe(0);
    const noop = await cli("import", "r", "--no-backup");
    expect(noop.code).toBe(0);
    expect(noop.stdout).toContain("nothing to do:");
    const h = await cli("history");
    expect(h.code).toBe(0);
    expect(
      h.stdout
        .split("\n")
        .filter((l) => /^\s+\d{4}-/.test(l))
        .map((l) => l.split(/\s+/)[2]),
    ).toEqual(["committed", "refused"]);
    expect(h.stdout).toContain("PLAN_MISMATCH");
    const s = await cli("status", "--json");
    expect(JSON.parse(s.stdout).releases[0]).toMatchObject({ release: "r", inSync: true });
  });

  it("should exit with the error's code when the release cannot be deployed", async () => {
    const files = clone(nextRelease());
    (files["players.json"] as Record<string, unknown>[])[0]!.teamId = 999;
    await ws.writeRelease("r", files);
    const r = await cli("plan", "r", "--json");
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: "plan", outcome: "refused", error: { code: "FK_VIOLATION" } });
  });

  it("should print drift in words", async () => {
    expect((await cli("import", "r", "--no-backup")).code).toBe(0);
    await sql(db.url, "DELETE FROM player_match_stats WHERE id = 8");
    const r = await cli("status");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("player_match_stats: drifted, at least 1 row differs (1 of 256 key buckets changed; rows 8 → 7)");
    expect(r.stdout).toContain("players: in sync (6 rows)");
  });
});
