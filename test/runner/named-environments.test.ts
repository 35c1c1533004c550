/**
 * A named environment end to end on a real database: its settings come from its base, its
 * backups are filed and pruned under its own name, the ledger's rows carry that name, and the
 * report says how the environment was chosen.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { listBackups } from "../../src/backup/retention.js";
import { history } from "../../src/commands/history.js";
import { failure, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject({ release: true });

afterEach(() => {
  vi.unstubAllEnvs();
});

const ENVIRONMENTS: Record<string, { extends?: "staging" | "production"; keepBackups?: number; databaseUrlEnv?: string }> = {
  staging: { keepBackups: 2 },
  railway_staging: { extends: "staging", databaseUrlEnv: "RAILWAY_STAGING_URL" },
  railway_production: { extends: "production", databaseUrlEnv: "RAILWAY_PRODUCTION_URL" },
};
const etl = () => new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } }, { environments: ENVIRONMENTS }));
const backupsOf = async (env: string) => (await listBackups(ws.backupDir)).filter((b) => b.manifest.environment === env).length;

describe("named environments (real database)", () => {
  it("should file and prune backups under the named environment, with the base's keepBackups, and record its name in the ledger", async () => {
    vi.stubEnv("RAILWAY_STAGING_URL", db.url);
    vi.stubEnv("ETL_ENV", undefined);
    const one = await etl().import({ release: "r", env: "railway_staging" });
    expect(one).toMatchObject({ outcome: "committed", environment: "railway_staging", environmentChosenBy: "--env" });
    for (let i = 0; i < 2; i++) await etl().import({ release: "r", env: "railway_staging", redeploy: true });
    await etl().import({ release: "r", env: "staging", url: db.url, redeploy: true });
    // railway_staging inherits staging's keepBackups (2) from the config; staging's own run never prunes its backups
    expect(await backupsOf("railway_staging")).toBe(2);
    expect(await backupsOf("staging")).toBe(1);
    const rows = (await history(etl().config, { env: "railway_staging" })).rows;
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.environment === "railway_staging")).toBe(true);
  });

  it("should run as the detected named environment, say so in the report, and ask for --force there", async () => {
    vi.stubEnv("RAILWAY_PRODUCTION_URL", db.url);
    vi.stubEnv("RAILWAY_ENVIRONMENT_NAME", "production");
    vi.stubEnv("ETL_ENV", undefined);
    const detect = [{ variable: "RAILWAY_ENVIRONMENT_NAME", equals: "production", env: "railway_production" }];
    const prod = () => new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } }, { environments: ENVIRONMENTS, detect }));
    const before = await stateOf(db.url);
    const f = await failure(prod().import({ release: "r" }));
    expect(f.error).toMatchObject({ code: "PRODUCTION_REQUIRES_FORCE", data: "untouched" });
    expect(f.report.environment).toBe("railway_production");
    expect(await stateOf(db.url)).toEqual(before);

    const lower = await failure(prod().import({ release: "r", env: "railway_staging", url: db.url }));
    expect(lower.error.code).toBe("ENVIRONMENT_LOOSER_THAN_DETECTED");

    const r = await prod().import({ release: "r", force: true });
    expect(r).toMatchObject({
      outcome: "committed",
      environment: "railway_production",
      environmentChosenBy: "detected: RAILWAY_ENVIRONMENT_NAME=production",
    });
    expect(await backupsOf("railway_production")).toBe(1);
  });
});
