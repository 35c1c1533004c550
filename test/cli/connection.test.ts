/**
 * Connection failures through the real CLI: each has its own code and exit code, names the
 * host (never the password), and the process exits promptly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../fixtures/core/kit.js";
import { type FaultBench, openBench } from "../faults/support/fault-bench.js";
import { FAULT_CONFIG } from "../faults/support/paths.js";
import { SMALL } from "../faults/support/release-fixture.js";
import { spawnCli } from "../faults/support/spawn-run.js";

/** The bench's database for the file (the bench drops it on close; the fixture's drop is then a no-op). */
const database = useTestDatabase({ seed: false, scope: "suite" });
let bench: FaultBench;
beforeAll(async () => {
  bench = await openBench({ size: SMALL, database });
}, 180_000);
afterAll(() => bench?.close());

const urlWith = (change: (u: URL) => void) => {
  const u = new URL(bench.url);
  change(u);
  return u.toString();
};

async function importWith(url: string) {
  const started = Date.now();
  const r = await spawnCli(["import", "B", "--config", FAULT_CONFIG, "--no-backup"], { ...bench.runEnv(), DATABASE_URL: url }).done;
  return { ...r, seconds: (Date.now() - started) / 1000 };
}

describe("atomic-etl import when the database cannot be reached", () => {
  it("should say AUTH_FAILED (exit 15) for a wrong password, without echoing it", async () => {
    const r = await importWith(urlWith((u) => void (u.password = "not-the-password")));
    expect(r.code).toBe(15);
    expect(r.stderr).toMatch(/AUTH_FAILED in lock: cannot connect to postgres@127\.0\.0\.1:\d+\/\S+: password authentication failed/);
    expect(r.stderr).not.toContain("not-the-password");
  });

  it("should say AUTH_FAILED when no password is given, and exit within 5 s, not after the server's 60 s authentication timeout", async () => {
    const r = await importWith(urlWith((u) => void (u.password = "")));
    expect(r.code).toBe(15);
    expect(r.stderr).toContain("the server asks for a password and none was given");
    expect(r.seconds, `exited after ${r.seconds.toFixed(2)} s`).toBeLessThan(5);
  });

  it("should say DATABASE_NOT_FOUND (exit 16) for a database that does not exist", async () => {
    const r = await importWith(urlWith((u) => void (u.pathname = "/no_such_database")));
    expect(r.code).toBe(16);
    expect(r.stderr).toContain('database "no_such_database" does not exist');
  });

  it("should say CONNECTION_FAILED (exit 14) when nothing listens on the port", async () => {
    const r = await importWith(urlWith((u) => void (u.port = "1")));
    expect(r.code).toBe(14);
    expect(r.stderr).toContain("ECONNREFUSED");
    expect(r.stderr).toContain("next:  check that the server is running");
  });

  it("should say URL_INVALID (exit 17) for a URL that cannot be parsed or is not PostgreSQL's, redacting the password", async () => {
    const bad = await importWith("postgresql://user:s3cr3t@[::1/base");
    expect(bad.code).toBe(17);
    expect(bad.stderr).toContain("URL_INVALID");
    expect(bad.stderr).not.toContain("s3cr3t");
    const mysql = await importWith("mysql://root:s3cr3t@db/app");
    expect(mysql.code).toBe(17);
    expect(mysql.stderr).toContain("mysql://root:***@db/app");
  });
});

describe("every other command when the database cannot be reached", () => {
  const run = (args: string[], url: string) => spawnCli([...args, "--config", FAULT_CONFIG], { ...bench.runEnv(), DATABASE_URL: url }).done;
  const COMMANDS = [["plan", "B"], ["backups"], ["status"], ["history"], ["restore", "latest"]];
  /** Runs every command against `url` and checks each result, labelled by its command. */
  const eachCommand = async (url: string, check: (r: Awaited<ReturnType<typeof run>>, label: string) => void) => {
    for (const args of COMMANDS) check(await run(args, url), args.join(" "));
  };

  it("should say AUTH_FAILED (exit 15) for a wrong password, with its next step and no stack trace", async () => {
    await eachCommand(
      urlWith((u) => void (u.password = "not-the-password")),
      (r, label) => {
        expect(r.code, label).toBe(15);
        expect(r.stderr, label).toContain("AUTH_FAILED");
        expect(r.stderr, label).toContain("password authentication failed");
        expect(r.stderr, label).toContain("next:  check the user and password");
        expect(r.stderr, label).not.toMatch(/^\s+at /m);
        expect(r.stderr, label).not.toContain("not-the-password");
      },
    );
  }, 120_000);

  it("should say CONNECTION_FAILED (exit 14) when nothing listens on the port", async () => {
    await eachCommand(
      urlWith((u) => void (u.port = "1")),
      (r, label) => {
        expect(r.code, label).toBe(14);
        expect(r.stderr, label).toContain("next:  check that the server is running");
      },
    );
  }, 120_000);
});
