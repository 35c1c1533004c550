import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { resolveTarget } from "../../src/config/target.js";
import type { EtlError } from "../../src/errors.js";

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

describe("resolveTarget: the environment is never weaker than the database", () => {
  it("should refuse a remote host without --env or ETL_ENV, naming the host and never the credentials", () => {
    const e = refusal(() =>
      resolveTarget(config(), { danger: "run" }, { DATABASE_URL: "postgresql://app:s3cret@db.prod.internal:5432/app" }),
    );
    expect(e.code).toBe("ENVIRONMENT_REQUIRED");
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("db.prod.internal");
    expect(`${e.message} ${e.next}`).not.toContain("s3cret");
    expect(e.next).toContain("--env");
  });

  it("should count only loopback and sockets as local: 127.0.0.2 looks remote unless localHosts lists it", () => {
    const env = { DATABASE_URL: "postgresql://app@127.0.0.2:5432/app" };
    expect(refusal(() => resolveTarget(config(), { danger: "run" }, env)).code).toBe("ENVIRONMENT_REQUIRED");
    expect(resolveTarget(config({ localHosts: ["127.0.0.2"] }), { danger: "run" }, env)).toMatchObject({
      env: "local",
      chosenBy: "default",
      host: "127.0.0.2",
    });
    for (const url of [
      "postgresql://app@localhost/app",
      "postgresql://app@127.0.0.1:5433/app",
      "postgresql://app@[::1]/app",
      "postgresql:///app?host=/var/run/postgresql",
      "postgres:///app",
    ])
      expect(resolveTarget(config(), { danger: "run" }, { DATABASE_URL: url }).env).toBe("local");
  });

  it("should run a remote host when the environment is given, by flag or by ETL_ENV, and say how it was chosen", () => {
    const url = "postgresql://app@db.internal/app";
    expect(resolveTarget(config(), { env: "staging", danger: "run" }, { DATABASE_URL: url }).chosenBy).toBe("flag");
    expect(resolveTarget(config(), { danger: "run" }, { DATABASE_URL: url, ETL_ENV: "staging" }).chosenBy).toBe("ETL_ENV");
  });

  it("should accept only postgres:// and postgresql:// URLs, echoing a refused one with its password redacted", () => {
    const e = refusal(() => resolveTarget(config(), { env: "local", danger: "run" }, { DATABASE_URL: "mysql://root:hunter2@db/app" }));
    expect(e.code).toBe("URL_INVALID");
    expect(e.message).toContain("mysql://root:***@db/app");
    expect(e.message).not.toContain("hunter2");
    const bad = refusal(() => resolveTarget(config(), { env: "local", danger: "run" }, { DATABASE_URL: "postgresql://u:p@w@[bad/app" }));
    expect(bad.code).toBe("URL_INVALID");
    expect(bad.message).not.toContain("p@w");
  });

  it("should refuse production without --force before looking at the URL", () => {
    expect(refusal(() => resolveTarget(config(), { env: "production", danger: "run" }, {})).code).toBe("PRODUCTION_REQUIRES_FORCE");
  });
});
