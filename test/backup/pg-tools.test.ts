import { describe, expect, it } from "vitest";
import { libpqEnv } from "../../src/backup/pg-tools.js";

describe("libpqEnv", () => {
  it("should turn every part of the URL into libpq variables, the password included", () => {
    expect(libpqEnv("postgresql://app:s%40cret@db.internal:6432/shop?sslmode=require&application_name=x&schema=public")).toEqual({
      PGHOST: "db.internal",
      PGPORT: "6432",
      PGUSER: "app",
      PGPASSWORD: "s@cret",
      PGDATABASE: "shop",
      PGSSLMODE: "require",
      PGAPPNAME: "atomic-etl",
    });
  });

  it("should read a unix socket host, an IPv6 host and a password given as query parameters", () => {
    expect(libpqEnv("postgresql:///shop?host=/var/run/postgresql&user=app&password=pw")).toMatchObject({
      PGHOST: "/var/run/postgresql",
      PGUSER: "app",
      PGPASSWORD: "pw",
      PGDATABASE: "shop",
    });
    expect(libpqEnv("postgresql://app@[::1]:5432/shop").PGHOST).toBe("::1");
  });
});
