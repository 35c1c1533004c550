import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { failure, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject({ release: true });

afterEach(() => {
  vi.unstubAllEnvs();
});

const etl = (extra = {}) => new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } }, extra));

describe("AtomicEtl.import (environments)", () => {
  it("should refuse production without --force, touching nothing: no backup, same rows", async () => {
    const before = await stateOf(db.url);
    const f = await failure(etl().import({ release: "r", url: db.url, env: "production" }));
    expect(f.error).toMatchObject({ code: "PRODUCTION_REQUIRES_FORCE", step: "config", data: "untouched" });
    expect(f.error.message).toContain("DANGER");
    expect(f.error.next).toContain("--force");
    expect(f.error.exitCode).toBe(2);
    expect(f.report).toMatchObject({ outcome: "refused", environment: "production", backup: null, txid: null });
    expect(existsSync(ws.backupDir)).toBe(false);
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should refuse --no-backup in production unless the config allows it", async () => {
    const before = await stateOf(db.url);
    const f = await failure(etl().import({ release: "r", url: db.url, env: "production", force: true, backup: false }));
    expect(f.error).toMatchObject({ code: "NO_BACKUP_FORBIDDEN", step: "config", data: "untouched" });
    expect(f.error.message).toContain("allowNoBackup");
    expect(existsSync(ws.backupDir)).toBe(false);
    expect(await stateOf(db.url)).toEqual(before);

    const allowed = await etl({ environments: { production: { allowNoBackup: true } } }).import({
      release: "r",
      url: db.url,
      env: "production",
      force: true,
      backup: false,
    });
    expect(allowed).toMatchObject({ outcome: "committed", environment: "production", backup: null });
  });

  it("should run production with --force, taking a backup first", async () => {
    const report = await etl().import({ release: "r", url: db.url, env: "production", force: true });
    expect(report.outcome).toBe("committed");
    expect(report.backup).not.toBeNull();
    expect((await readdir(ws.backupDir)).filter((n) => n.endsWith(".manifest.json"))).toHaveLength(1);
  });

  it("should refuse an unknown environment with UNKNOWN_ENVIRONMENT", async () => {
    const before = await stateOf(db.url);
    const f = await failure(etl().import({ release: "r", url: db.url, env: "prod" }));
    expect(f.error).toMatchObject({ code: "UNKNOWN_ENVIRONMENT", step: "config", data: "untouched" });
    expect(f.error.message).toContain("local, staging, production");
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should honour ETL_ENV when no environment is passed, and let an explicit one win", async () => {
    vi.stubEnv("ETL_ENV", "production");
    const f = await failure(etl().import({ release: "r", url: db.url }));
    expect(f.error.code).toBe("PRODUCTION_REQUIRES_FORCE");
    expect(f.report.environment).toBe("production");

    const local = await etl().import({ release: "r", url: db.url, env: "local", backup: false });
    expect(local.environment).toBe("local");

    vi.stubEnv("ETL_ENV", "staging");
    const staging = await etl().import({ release: "r", url: db.url, backup: false });
    expect(staging.environment).toBe("staging");

    vi.stubEnv("ETL_ENV", "qa");
    expect((await failure(etl().import({ release: "r", url: db.url }))).error.code).toBe("UNKNOWN_ENVIRONMENT");
  });

  it("should default to local", async () => {
    vi.stubEnv("ETL_ENV", undefined);
    const report = await etl().import({ release: "r", url: db.url, backup: false });
    expect(report.environment).toBe("local");
  });

  it("should read the connection URL from the variable the config names for the environment", async () => {
    vi.stubEnv("STAGING_DB", db.url);
    vi.stubEnv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none");
    const report = await etl({ databaseUrlEnv: { staging: "STAGING_DB" } }).import({ release: "r", env: "staging", backup: false });
    expect(report.outcome).toBe("committed");

    vi.stubEnv("STAGING_DB", undefined);
    const f = await failure(etl({ databaseUrlEnv: { staging: "STAGING_DB" } }).import({ release: "r", env: "staging", backup: false }));
    expect(f.error).toMatchObject({ code: "DATABASE_URL_MISSING", data: "untouched" });
    expect(f.error.message).toContain("STAGING_DB");
  });
});
