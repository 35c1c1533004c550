import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { fingerprints, linkNodeModules, REPO_ROOT, STANDARD_TABLES, useTestDatabase, useTestProject } from "../fixtures/core/kit.js";
import { SECRET } from "./support.js";

/** Once for the file: the seeded source (production), the empty target and the project folder. */
const { db: source, ws } = useTestProject({ scope: "suite" });
const target = useTestDatabase({ seed: false, scope: "suite" });

const TSX = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
const MAIN = path.join(REPO_ROOT, "src", "cli", "main.ts");

/** The real CLI in the workspace: PROD_URL is the source, DATABASE_URL the target; no URL in argv. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !["ETL_ENV", "DATABASE_URL", "ATOMIC_ETL_MASK_SECRET"].includes(k)),
  );
  const r = await execa(TSX, [MAIN, ...args], {
    cwd: ws.root,
    env: { ...base, PROD_URL: source.url, DATABASE_URL: target.url, ...env },
    extendEnv: false,
    reject: false,
    timeout: 120_000,
  });
  const secret = decodeURIComponent(new URL(source.url).password);
  expect(`${r.stdout}\n${r.stderr}`).not.toContain(secret);
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

const logLines = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  await linkNodeModules(ws.root);
  await writeFile(
    path.join(ws.root, "etl.config.ts"),
    `import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from ${JSON.stringify(path.join(REPO_ROOT, "etl/generated/prisma/client.ts"))};

export default {
  client: ({ url }: { url: string }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }),
  releasesDir: "releases",
  databaseUrlEnv: { production: "PROD_URL" },
  releases: { full: { tables: ${JSON.stringify(STANDARD_TABLES)} } },
  samples: { laptop: { limits: { PlayerMatchStat: 1 }, masks: { "Player.fullName": "name" } } },
};
`,
  );
});

describe("atomic-etl export and sample (CLI)", () => {
  it("should export from --from production and import it with zero edits, logging one line per table", async () => {
    const r = await cli(["export", "full", "--from", "production", "-c", "etl.config.ts"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("export full: 10 rows in 5 tables");
    const tables = logLines(r.stderr).filter((l) => l.phase === "write");
    expect(tables.map((l) => l.table).sort()).toEqual(["leagues", "matches", "player_match_stats", "players", "teams"]);
    for (const l of tables)
      expect(l).toMatchObject({ rows: expect.any(Number), bytes: expect.any(Number), durationMs: expect.any(Number) });
    const imp = await cli(["import", "full", "--no-backup", "-c", "etl.config.ts"]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(await fingerprints(target.url)).toEqual(await fingerprints(source.url));
  });

  it("should sample with --limit over the config, masked with the secret from the environment, and import it by name", async () => {
    const refused = await cli(["sample", "laptop", "--from", "production", "-c", "etl.config.ts"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("MASK_SECRET_MISSING");
    expect(existsSync(path.join(ws.root, "releases", "laptop"))).toBe(false);
    const r = await cli(["sample", "laptop", "--from", "production", "--limit", "players=all", "--json", "-c", "etl.config.ts"], {
      ATOMIC_ETL_MASK_SECRET: SECRET,
    });
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout) as { tables: { table: string; rows: number }[]; masks: unknown[] };
    expect(manifest.tables.find((t) => t.table === "players")?.rows).toBe(2);
    expect(manifest.masks).toEqual([{ column: "players.full_name", rule: "name", inheritedFrom: null }]);
    const imp = await cli(["import", "laptop", "--no-backup", "-c", "etl.config.ts"]);
    expect(imp.code, imp.stderr).toBe(0);
  });

  it("should exit 2 naming the flag when --from is missing, and 2 for an existing output without --force", async () => {
    expect((await cli(["sample", "laptop", "-c", "etl.config.ts"])).code).toBe(2);
    const again = await cli(["export", "full", "--from", "production", "-c", "etl.config.ts"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("OUTPUT_EXISTS");
  });
});
