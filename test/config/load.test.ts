import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pickEnvironmentName } from "../../src/config/environments.js";
import { loadConfig, parseConfig, resolveEnvironment } from "../../src/config/load.js";
import { ConfigError, EtlError } from "../../src/errors.js";
import { linkNodeModules, REPO_ROOT } from "../fixtures/core/kit.js";

const client = () => {
  throw new Error("not called by config tests");
};
const minimal = { client, releases: { r: { tables: [{ model: "League", file: "leagues.json" }] } } };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("should fill in every default", () => {
    const c = parseConfig(minimal, "/project");
    expect(c).toMatchObject({
      root: "/project",
      configPath: null,
      schema: "public",
      releasesDir: "releases",
      backupDir: "backups",
      databaseUrlEnv: {},
      environments: {},
      localHosts: [],
    });
    expect(c.releases.r).toMatchObject({ checks: [], strategy: "direct", refresh: [], afterLoad: [] });
    expect(c.releases.r?.tables[0]).toEqual({
      model: "League",
      file: "leagues.json",
      keys: "auto",
      unknownKeys: "error",
      allowEmpty: false,
      partitionWise: true,
    });
  });

  it("should refuse unknown keys at every level", () => {
    const e = configError(() => parseConfig({ ...minimal, releasDir: "x" }, "/p"));
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.issues).toEqual(['(root): unknown key(s) "releasDir"']);
    const deep = configError(() =>
      parseConfig({ ...minimal, releases: { r: { tables: [{ model: "League", file: "l.json", batchsize: 5 }] } } }, "/p"),
    );
    expect(deep.issues).toEqual(['releases.r.tables.0: unknown key(s) "batchsize"']);
  });

  it("should report every problem at once", () => {
    const e = configError(() =>
      parseConfig(
        {
          client: "not a function",
          schema: "",
          bogus: true,
          environments: { local: { batchSize: 0, nope: 1 }, prod: {} },
          releases: {
            "bad/name": { tables: [{ model: "League", file: "l.json" }] },
            ok: { tables: [{ model: "League" }], checks: [{ name: "c" }], strategy: "yolo" },
          },
        },
        "/p",
      ),
    );
    expect(e.issues.length).toBeGreaterThanOrEqual(8);
    const all = e.issues.join("\n");
    for (const where of [
      "client",
      "schema",
      '"bogus"',
      "environments.local.batchSize",
      '"nope"',
      "environments",
      "releases.bad/name",
      "releases.ok.tables.0.file",
      "releases.ok.checks.0",
      "releases.ok.strategy",
    ]) {
      expect(all).toContain(where);
    }
    expect(e.message.split("\n  - ")).toHaveLength(e.issues.length + 1);
    expect(e.exitCode).toBe(2);
  });

  it("should require exactly one of model or table", () => {
    expect(
      configError(() => parseConfig({ client, releases: { r: { tables: [{ model: "A", table: "a", file: "a.json" }] } } }, "/p")).issues,
    ).toEqual(["releases.r.tables.0: give exactly one of `model` or `table`"]);
    expect(configError(() => parseConfig({ client, releases: { r: { tables: [{ file: "a.json" }] } } }, "/p")).issues).toHaveLength(1);
  });

  it("should refuse a table name longer than Postgres allows or holding a NUL byte", () => {
    const e = configError(() =>
      parseConfig(
        {
          client,
          releases: {
            r: {
              tables: [
                { table: "x".repeat(64), file: "a.json" },
                { table: "a\u0000b", file: "b.json" },
              ],
            },
          },
        },
        "/p",
      ),
    );
    expect(e.issues).toHaveLength(2);
    expect(e.issues[1]).toContain("NUL");
  });

  it("should refuse a release without tables", () => {
    expect(configError(() => parseConfig({ client, releases: { r: { tables: [] } } }, "/p")).issues[0]).toContain("releases.r.tables");
  });
});

describe("resolveEnvironment", () => {
  it("should take the defaults and override them field by field", () => {
    const c = parseConfig({ ...minimal, environments: { staging: { batchSize: 123 }, production: { keepBackups: 2 } } }, "/p");
    const staging = resolveEnvironment(c, "staging");
    expect(staging.name).toBe("staging");
    expect(staging.settings).toMatchObject({ batchSize: 123, requireForce: false, allowNoBackup: true });
    const prod = resolveEnvironment(c, "production").settings;
    expect(prod).toMatchObject({ keepBackups: 2, requireForce: true, allowNoBackup: false });
    expect(resolveEnvironment(c, "local").settings).toMatchObject({ batchSize: 5000, maxBatchBytes: 2 * 1024 * 1024, memoryBudgetMb: 256 });
  });

  it("should refuse an unknown environment with UNKNOWN_ENVIRONMENT", () => {
    const c = parseConfig(minimal, "/p");
    expect(() => resolveEnvironment(c, "prod")).toThrow(expect.objectContaining({ code: "UNKNOWN_ENVIRONMENT" }) as Error);
  });
});

describe("pickEnvironmentName", () => {
  it("should take the flag, then ETL_ENV, then local", () => {
    expect(pickEnvironmentName("staging", { ETL_ENV: "production" })).toBe("staging");
    expect(pickEnvironmentName(undefined, { ETL_ENV: "production" })).toBe("production");
    expect(pickEnvironmentName(undefined, {})).toBe("local");
  });
});

describe("loadConfig", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-config-"));
    await linkNodeModules(dir);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("should load a TypeScript config without a build step, resolving its paths from the config file's folder", async () => {
    await mkdir(path.join(dir, "sub"), { recursive: true });
    await writeFile(
      path.join(dir, "sub", "etl.config.ts"),
      `import { defineConfig } from ${JSON.stringify(path.join(REPO_ROOT, "src/index.ts"))};
       const batchSize: number = 42;
       export default defineConfig({
         client: () => { throw new Error("unused"); },
         environments: { local: { batchSize } },
         releases: { r: { tables: [{ table: "leagues", file: "leagues.json" }] } },
       });`,
    );
    const c = await loadConfig("sub/etl.config.ts", dir);
    expect(c.root).toBe(path.join(dir, "sub"));
    expect(c.configPath).toBe(path.join(dir, "sub", "etl.config.ts"));
    expect(c.environments.local?.batchSize).toBe(42);
  }, 120_000);

  it("should load the example config of this repository", async () => {
    const c = await loadConfig("etl/etl.config.ts", REPO_ROOT);
    expect(Object.keys(c.releases)).toEqual(expect.arrayContaining(["league-2026", "league-2026-hotfix"]));
    expect(typeof c.client).toBe("function");
    expect(existsSync(path.resolve(c.root, c.releasesDir, "league-2026", "leagues.json"))).toBe(true);
    expect(path.resolve(c.root, c.backupDir)).toBe(path.join(REPO_ROOT, "backups"));
  }, 120_000);

  it("should refuse a missing config file with CONFIG_NOT_FOUND", async () => {
    const e = await loadConfig("nope.config.ts", dir).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(EtlError);
    expect(e).toMatchObject({ code: "CONFIG_NOT_FOUND", step: "config" });
    expect((e as EtlError).next).toContain("--config");
  });

  it("should refuse a config file that throws while loading with CONFIG_INVALID", async () => {
    await writeFile(path.join(dir, "broken.config.ts"), `throw new Error("syntax is fine, but this throws");\nexport default {};`);
    const e = await loadConfig("broken.config.ts", dir).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ code: "CONFIG_INVALID", file: path.join(dir, "broken.config.ts") });
    expect((e as Error).message).toContain("this throws");
  });

  it("should report the file with every problem of an invalid config", async () => {
    await writeFile(
      path.join(dir, "invalid.config.ts"),
      `export default { client: 1, releases: { r: { tables: [{ model: "A", file: "a.json", extra: 1 }] } } };`,
    );
    const e = await loadConfig("invalid.config.ts", dir).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).issues).toHaveLength(2);
    expect((e as ConfigError).file).toBe(path.join(dir, "invalid.config.ts"));
  });
});
