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
  releases: { full: { tables: ${JSON.stringify(STANDARD_TABLES)} }, squads: { tables: [{ model: "Player", file: "players.json" }] } },
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

  it("should exit 2 naming the flags when --from is missing, and 2 for an existing output without --force, shown as typed", async () => {
    const missing = await cli(["sample", "laptop", "-c", "etl.config.ts"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("USAGE in preflight: where to read from is missing: pass --from <env> or --from-url-env <VAR>");
    const again = await cli(["export", "full", "--from", "production", "-c", "etl.config.ts"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("OUTPUT_EXISTS in preflight: releases/full already exists");
  });

  it("should read from --from-url-env alone, recording the variable and no environment", async () => {
    const out = path.join(ws.root, "by-variable");
    const r = await cli(["export", "full", "--from-url-env", "SOURCE_URL", "--out", "by-variable", "--json", "-c", "etl.config.ts"], {
      SOURCE_URL: source.url,
      PROD_URL: "postgresql://nobody@127.0.0.1:1/none",
    });
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout) as { source: Record<string, unknown> };
    expect(manifest.source).toMatchObject({ environment: null, urlVariable: "SOURCE_URL" });
    expect(existsSync(path.join(out, "release.json"))).toBe(true);
    // with both, the variable gives the URL and the manifest says so beside the environment
    const both = await cli(
      ["export", "full", "--from", "staging", "--from-url-env", "SOURCE_URL", "--out", "by-both", "--json", "-c", "etl.config.ts"],
      { SOURCE_URL: source.url },
    );
    expect(both.code, both.stderr).toBe(0);
    expect((JSON.parse(both.stdout) as { source: Record<string, unknown> }).source).toMatchObject({
      environment: "staging",
      urlVariable: "SOURCE_URL",
    });
  });

  it("should refuse a URL given to --from, a bad URL in the variable, and an unknown --from with hints about --from", async () => {
    const url = await cli(["sample", "laptop", "--from", source.url, "-c", "etl.config.ts"]);
    expect(url.code).toBe(2);
    expect(url.stderr).toContain("--from takes an environment's name, never a URL");
    const bad = await cli(["export", "full", "--from", "production", "--out", "bad", "-c", "etl.config.ts"], { PROD_URL: "not a url" });
    expect(bad.code, bad.stderr).toBe(17);
    expect(bad.stderr).toContain("URL_INVALID");
    const unknown = await cli(["export", "full", "--from", "prod", "--out", "unknown", "-c", "etl.config.ts"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("pass --from local|staging|production (or --from-url-env <VAR>)");
    expect(unknown.stderr).not.toContain("--env");
    for (const d of ["bad", "unknown"]) expect(existsSync(path.join(ws.root, d))).toBe(false);
  });

  it("should name the FKs to tables outside an export in its summary", async () => {
    const r = await cli(["export", "squads", "--from", "production", "--out", "squads", "-c", "etl.config.ts"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("closure: 0 FKs resolved inside the release; 1 FK to tables outside it (players → teams)");
  });
});
