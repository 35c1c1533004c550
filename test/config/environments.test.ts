/**
 * Named environments (`extends` a built-in, own URL variable and settings) and detection from
 * platform variables, which may only make a run stricter.
 */
import { describe, expect, it } from "vitest";
import { chooseEnvironment, resolveEnvironment } from "../../src/config/environment-choice.js";
import { parseConfig } from "../../src/config/load.js";
import { resolveTarget } from "../../src/config/target.js";
import { ConfigError, type EtlError } from "../../src/errors.js";

const config = (extra: Record<string, unknown> = {}) =>
  parseConfig({ client: () => ({}) as never, releases: { r: { tables: [{ table: "t", file: "t.json" }] } }, ...extra }, "/tmp");

const refusal = (fn: () => unknown): EtlError => {
  try {
    fn();
  } catch (e) {
    return e as EtlError;
  }
  throw new Error("expected a refusal");
};

const NAMED = {
  environments: {
    production: { keepBackups: 50 },
    railway_staging: { extends: "staging", databaseUrlEnv: "RAILWAY_STAGING_URL", batchSize: 1_000 },
    railway_production: { extends: "production", databaseUrlEnv: "RAILWAY_PRODUCTION_URL" },
    "eu-production": { extends: "production", databaseUrlEnv: "EU_URL", keepBackups: 7 },
  },
};
const REMOTE = "postgresql://app:s3cret@db.prod.internal:5432/app";

describe("named environments", () => {
  it("should inherit the base's defaults and the config's overrides of the base, with its own settings winning", () => {
    const c = config(NAMED);
    expect(resolveEnvironment(c, "railway_staging")).toMatchObject({
      name: "railway_staging",
      base: "staging",
      urlVariable: "RAILWAY_STAGING_URL",
      settings: { keepBackups: 10, requireForce: false, batchSize: 1_000, allowNoBackup: true },
    });
    expect(resolveEnvironment(c, "railway_production")).toMatchObject({
      base: "production",
      settings: { requireForce: true, keepBackups: 50, allowNoBackup: false, fallback: "fail" },
    });
    expect(resolveEnvironment(c, "eu-production").settings).toMatchObject({ requireForce: true, keepBackups: 7 });
    expect(Object.keys(resolveEnvironment(c, "eu-production").settings)).not.toContain("extends");
  });

  it("should read a named environment's URL from its own variable, never from its base's", () => {
    const t = resolveTarget(
      config({ ...NAMED, databaseUrlEnv: { production: "PROD_URL" } }),
      { env: "eu-production", force: true, danger: "run" },
      {
        PROD_URL: "postgresql://wrong@127.0.0.1/prod",
        EU_URL: REMOTE,
      },
    );
    expect(t).toMatchObject({
      env: "eu-production",
      base: "production",
      urlVariable: "EU_URL",
      host: "db.prod.internal",
      chosenBy: "flag",
    });
    const fallback = resolveTarget(
      config({ environments: { qa: { extends: "staging" } }, databaseUrlEnv: { qa: "QA_URL" } }),
      { env: "qa", danger: "run" },
      {
        QA_URL: REMOTE,
      },
    );
    expect(fallback.urlVariable).toBe("QA_URL");
  });

  it("should ask for --force in a named environment that extends production", () => {
    const e = refusal(() => resolveTarget(config(NAMED), { env: "railway_production", danger: "run" }, { RAILWAY_PRODUCTION_URL: REMOTE }));
    expect(e).toMatchObject({ code: "PRODUCTION_REQUIRES_FORCE", exitCode: 2 });
    expect(e.message).toContain("railway_production");
  });

  it("should refuse a named environment without extends, a built-in with extends, and unknown names in databaseUrlEnv and detect", () => {
    const issues = (extra: Record<string, unknown>) => {
      try {
        config(extra);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error("expected a config error");
    };
    expect(issues({ environments: { qa: { batchSize: 10 } } })).toContain("environments.qa.extends: a named environment needs extends");
    expect(issues({ environments: { production: { extends: "local" } } })).toContain("environments.production.extends");
    expect(issues({ databaseUrlEnv: { qa: "QA_URL" } })).toContain("databaseUrlEnv.qa: unknown environment");
    expect(issues({ detect: [{ variable: "NODE_ENV", equals: "production", env: "prod" }] })).toContain(
      'detect.0.env: unknown environment "prod"',
    );
    expect(issues({ environments: { "eu production": { extends: "production" } } })).toContain("environment names");
  });

  it("should list the named environments when one is unknown", () => {
    const e = refusal(() => resolveEnvironment(config(NAMED), "railway-staging"));
    expect(e.code).toBe("UNKNOWN_ENVIRONMENT");
    expect(e.message).toContain("local, staging, production, railway_staging, railway_production, eu-production");
  });
});

describe("environment detection", () => {
  const RULES = {
    ...NAMED,
    detect: [
      { variable: "RAILWAY_ENVIRONMENT_NAME", equals: "staging", env: "railway_staging" },
      { variable: "RAILWAY_ENVIRONMENT_NAME", equals: "production", env: "railway_production" },
      { variable: "NODE_ENV", equals: ["production", "prod"], env: "production" },
      { variable: "FLY_APP_NAME", env: "eu-production" },
    ],
  };

  it("should pick the detected environment when none is given, and say which variable chose it", () => {
    const c = config(RULES);
    const t = resolveTarget(c, { force: true, danger: "run" }, { RAILWAY_ENVIRONMENT_NAME: "staging", RAILWAY_STAGING_URL: REMOTE });
    // a remote host needs no --env when a rule said which environment this is
    expect(t).toMatchObject({
      env: "railway_staging",
      chosenBy: "detected",
      detected: { variable: "RAILWAY_ENVIRONMENT_NAME", value: "staging" },
    });
    expect(chooseEnvironment(c, undefined, { NODE_ENV: "development" })).toMatchObject({
      name: "local",
      chosenBy: "default",
      detected: null,
    });
  });

  it("should never let detected production run as local: no default, no --env, no ETL_ENV lowers it", () => {
    const c = config(RULES);
    const env = { RAILWAY_ENVIRONMENT_NAME: "production", RAILWAY_PRODUCTION_URL: REMOTE, DATABASE_URL: "postgresql://me@localhost/dev" };
    expect(refusal(() => resolveTarget(c, { danger: "run" }, env)).code).toBe("PRODUCTION_REQUIRES_FORCE");
    for (const [opts, extra] of [
      [{ env: "local" }, {}],
      [{ env: "railway_staging" }, {}],
      [{}, { ETL_ENV: "local" }],
    ] as const) {
      const e = refusal(() => resolveTarget(c, { ...opts, force: true, danger: "run" }, { ...env, ...extra }));
      expect(e).toMatchObject({ code: "ENVIRONMENT_LOOSER_THAN_DETECTED", exitCode: 2, data: "untouched" });
      expect(e.message).toContain("RAILWAY_ENVIRONMENT_NAME=production");
      expect(e.next).toContain("env -u RAILWAY_ENVIRONMENT_NAME");
    }
  });

  it("should allow an explicit environment as strict as the detected one or stricter", () => {
    const c = config(RULES);
    const env = { RAILWAY_ENVIRONMENT_NAME: "staging", EU_URL: REMOTE, DATABASE_URL: REMOTE };
    expect(resolveTarget(c, { env: "eu-production", force: true, danger: "run" }, env)).toMatchObject({
      env: "eu-production",
      chosenBy: "flag",
    });
    expect(resolveTarget(c, { env: "staging", danger: "run" }, env)).toMatchObject({ env: "staging", chosenBy: "flag" });
    const prod = { NODE_ENV: "prod", EU_URL: REMOTE };
    expect(resolveTarget(c, { env: "eu-production", force: true, danger: "run" }, prod).detected).toMatchObject({ env: "production" });
  });

  it("should take the strictest match whatever the order of the rules", () => {
    const c = config(RULES);
    expect(chooseEnvironment(c, undefined, { RAILWAY_ENVIRONMENT_NAME: "staging", NODE_ENV: "production" }).name).toBe("production");
  });

  it("should never echo the value of a rule without equals (it could be a secret)", () => {
    const c = config(RULES);
    const e = refusal(() => resolveTarget(c, { env: "local", danger: "run" }, { FLY_APP_NAME: "s3cret-app", DATABASE_URL: REMOTE }));
    expect(e.code).toBe("ENVIRONMENT_LOOSER_THAN_DETECTED");
    expect(e.message).toContain("FLY_APP_NAME (set)");
    expect(JSON.stringify(e.toJSON())).not.toContain("s3cret-app");
  });

  it("should detect Vercel and Railway production by default, and nothing with detect: []", () => {
    expect(chooseEnvironment(config(), undefined, { VERCEL_ENV: "production" })).toMatchObject({
      name: "production",
      chosenBy: "detected",
    });
    expect(chooseEnvironment(config(), undefined, { VERCEL_ENV: "preview" }).name).toBe("staging");
    expect(chooseEnvironment(config(), undefined, { RAILWAY_ENVIRONMENT_NAME: "production" }).name).toBe("production");
    expect(chooseEnvironment(config(), undefined, { NODE_ENV: "production" }).name).toBe("local");
    expect(chooseEnvironment(config({ detect: [] }), undefined, { VERCEL_ENV: "production" }).name).toBe("local");
  });
});
