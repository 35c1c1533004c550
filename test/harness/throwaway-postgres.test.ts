import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { findPgBinaries, HarnessError } from "../../tools/harness/pg-binaries.js";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../../tools/harness/throwaway-postgres.js";
import { adminUrl, freshDatabase, pgBinaries, pgTestContext } from "../support/postgres.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HARNESS_SRC = path.join(REPO_ROOT, "tools", "harness", "throwaway-postgres.ts");
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

async function query<T extends Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end().catch(() => {});
  }
}

/** Resolves with the connect error code, or "connected". */
function probePort(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      resolve("connected");
    });
    sock.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

function processArgs(): string {
  return execFileSync("ps", ["-eww", "-o", "pid,user,args"], { encoding: "utf8" });
}

describe("findPgBinaries", () => {
  it("should find all tools of one major version in one directory", async () => {
    const bins = await findPgBinaries();
    expect(path.isAbsolute(bins.dir)).toBe(true);
    expect(bins.major).toBeGreaterThanOrEqual(13);
    for (const tool of ["initdb", "pg_ctl", "postgres", "pg_dump", "pg_restore", "psql"] as const) {
      expect(bins[tool]).toBe(path.join(bins.dir, tool));
      expect(existsSync(bins[tool])).toBe(true);
    }
    expect(execFileSync(bins.pg_ctl, ["--version"], { encoding: "utf8" })).toContain(`PostgreSQL) ${bins.major}`);
    expect(execFileSync(bins.psql, ["--version"], { encoding: "utf8" })).toContain(`PostgreSQL) ${bins.major}`);
  });

  it("should honour PG_BIN_DIR when it holds the binaries", async () => {
    const real = await findPgBinaries();
    const bins = await findPgBinaries({ env: { PATH: "", PG_BIN_DIR: real.dir } });
    expect(bins).toEqual(real);
  });

  it("should throw PG_BINARIES_MISSING with the install hint when PG_BIN_DIR is an empty dir", async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), "atomic-etl-empty-bin-"));
    vi.stubEnv("PG_BIN_DIR", empty);
    try {
      const err = await findPgBinaries().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HarnessError);
      expect(err).toMatchObject({ name: "HarnessError", code: "PG_BINARIES_MISSING" });
      const message = (err as Error).message;
      expect(message).toContain(empty);
      expect(message).toContain("apt-get update && apt-get install -y postgresql");
      expect(message).toContain("PG_BIN_DIR");
    } finally {
      vi.unstubAllEnvs();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("should throw PG_BINARIES_MISSING when no major version matches", async () => {
    await expect(findPgBinaries({ major: 4 })).rejects.toMatchObject({ code: "PG_BINARIES_MISSING" });
  });
});

describe("startThrowawayPostgres", () => {
  let cluster: ThrowawayPostgres;
  const logMessages: string[] = [];

  beforeAll(async () => {
    cluster = await startThrowawayPostgres({ log: (m) => logMessages.push(m) });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it("should start a cluster on a free 127.0.0.1 port and accept the password", async () => {
    expect(cluster.host).toBe("127.0.0.1");
    expect(cluster.port).toBeGreaterThan(0);
    expect(cluster.user).toBe("postgres");
    expect(cluster.url).toBe(`postgresql://postgres:${encodeURIComponent(cluster.password)}@127.0.0.1:${cluster.port}/postgres`);
    const [row] = await query<{ usr: string; addr: string; port: number; enc: string; ver: string }>(
      cluster.url,
      "SELECT current_user AS usr, host(inet_server_addr()) AS addr, inet_server_port() AS port, " +
        "pg_encoding_to_char(encoding) AS enc, current_setting('server_version_num') AS ver " +
        "FROM pg_database WHERE datname = current_database()",
    );
    expect(row).toMatchObject({ usr: "postgres", addr: "127.0.0.1", port: cluster.port, enc: "UTF8" });
    expect(Math.floor(Number(row?.ver) / 10000)).toBe(cluster.binaries.major);
    const settings = await query<{ name: string; setting: string }>(
      cluster.url,
      "SELECT name, setting FROM pg_settings WHERE name IN ('fsync','full_page_writes','max_connections','listen_addresses','lc_collate','password_encryption')",
    );
    expect(Object.fromEntries(settings.map((s) => [s.name, s.setting]))).toEqual({
      fsync: "off",
      full_page_writes: "off",
      max_connections: "200",
      listen_addresses: "127.0.0.1",
      lc_collate: "C",
      password_encryption: "scram-sha-256",
    });
  });

  it("should reject a wrong password (scram-sha-256 auth)", async () => {
    const wrong = cluster.url.replace(encodeURIComponent(cluster.password), "not-the-password");
    await expect(query(wrong, "SELECT 1")).rejects.toMatchObject({ code: "28P01" });
  });

  it("should run the server as the postgres OS user when root", async () => {
    const expected = isRoot ? "postgres" : os.userInfo().username;
    const owner = (pid: number | string) => execFileSync("ps", ["-o", "user=", "-p", String(pid)], { encoding: "utf8" }).trim();
    const postmasterPid = readFileSync(path.join(cluster.dataDir, "postmaster.pid"), "utf8").split("\n")[0] ?? "";
    expect(owner(postmasterPid)).toBe(expected);
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      expect(owner(rows[0]?.pid ?? 0)).toBe(expected);
    } finally {
      await client.end();
    }
    const dataOwner = statSync(cluster.dataDir).uid;
    if (isRoot) expect(dataOwner).not.toBe(0);
    else expect(dataOwner).toBe(process.getuid?.());
  });

  it("should never leak the password to argv, logs or the temp dir", async () => {
    expect(cluster.password.length).toBeGreaterThanOrEqual(16);
    expect(readdirSync(cluster.baseDir).sort()).toEqual(["data", "postgres.log", "sock"]);
    expect(processArgs()).not.toContain(cluster.password);
    expect(readFileSync(cluster.logFile, "utf8")).not.toContain(cluster.password);
    expect(logMessages.length).toBeGreaterThan(0);
    expect(logMessages.join("\n")).not.toContain(cluster.password);
    expect(cluster.env().PGPASSWORD).toBe(cluster.password);
  });

  it('should create and drop a database with a hostile name like we"ird db', async () => {
    const name = 'we"ird db';
    const url = await cluster.createDatabase(name);
    expect(url).toBe(cluster.urlFor(name));
    const [row] = await query<{ db: string }>(url, "SELECT current_database() AS db");
    expect(row?.db).toBe(name);
    await cluster.dropDatabase(name);
    const left = await query(cluster.url, "SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    expect(left).toHaveLength(0);
    // dropping again is fine
    await cluster.dropDatabase(name);
  });

  it("should create a database from a template", async () => {
    const src = await cluster.createDatabase("tpl_src");
    await query(src, "CREATE TABLE things (id int PRIMARY KEY); INSERT INTO things VALUES (1), (2)");
    const copy = await cluster.createDatabase("tpl_copy", { template: "tpl_src" });
    const rows = await query<{ n: number }>(copy, "SELECT count(*)::int AS n FROM things");
    expect(rows[0]?.n).toBe(2);
  });

  it("should run psql with env() and keep the password off the command line", async () => {
    const out = execFileSync(cluster.binaries.psql, ["-XAtc", "SELECT 40 + 2"], {
      encoding: "utf8",
      env: { ...process.env, ...cluster.env() },
    });
    expect(out.trim()).toBe("42");
  });
});

describe("throwaway cluster lifecycle", () => {
  it("should keep port and committed data across stopImmediate() and start()", async () => {
    const cluster = await startThrowawayPostgres();
    try {
      const port = cluster.port;
      await query(cluster.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('committed')");
      await cluster.stopImmediate();
      expect(await probePort(port)).toBe("ECONNREFUSED");
      expect(existsSync(cluster.dataDir)).toBe(true);
      await cluster.start();
      expect(cluster.port).toBe(port);
      const rows = await query<{ v: string }>(cluster.url, "SELECT v FROM kept");
      expect(rows).toEqual([{ v: "committed" }]);
    } finally {
      await cluster.stop();
    }
  });

  it("should stop the server and remove the temp dir on stop()", async () => {
    const cluster = await startThrowawayPostgres();
    const { baseDir, port } = cluster;
    expect(existsSync(baseDir)).toBe(true);
    await cluster.stop();
    expect(existsSync(baseDir)).toBe(false);
    expect(await probePort(port)).toBe("ECONNREFUSED");
    expect(processArgs()).not.toContain(baseDir);
    await cluster.stop(); // idempotent
    await expect(cluster.start()).rejects.toMatchObject({ code: "CLUSTER_REMOVED" });
  });

  describe("when the owning process dies", () => {
    let scriptDir: string;
    let script: string;

    beforeAll(() => {
      scriptDir = mkdtempSync(path.join(os.tmpdir(), "atomic-etl-harness-child-"));
      script = path.join(scriptDir, "child.mts");
      writeFileSync(
        script,
        `import { startThrowawayPostgres } from ${JSON.stringify(pathToFileURL(HARNESS_SRC).href)};
const mode = process.argv[2];
const pg = await startThrowawayPostgres();
process.stdout.write(JSON.stringify({ baseDir: pg.baseDir, dataDir: pg.dataDir, port: pg.port }) + "\\n");
if (mode === "throw") setTimeout(() => { throw new Error("boom"); }, 50);
else if (mode === "reject") setTimeout(() => { void Promise.reject(new Error("boom")); }, 50);
else setInterval(() => {}, 1000);
`,
      );
    });

    afterAll(() => {
      rmSync(scriptDir, { recursive: true, force: true });
    });

    async function runChild(
      mode: string,
      signal?: NodeJS.Signals,
    ): Promise<{ info: { baseDir: string; dataDir: string; port: number }; code: number | null; stderr: string }> {
      const child = spawn(process.execPath, ["--import", "tsx", script, mode], {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      const info = await new Promise<{ baseDir: string; dataDir: string; port: number }>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString();
          const nl = stdout.indexOf("\n");
          if (nl >= 0) resolve(JSON.parse(stdout.slice(0, nl)));
        });
        void exited.then(() => reject(new Error(`child exited before reporting its cluster:\n${stderr}`)));
      });
      expect(existsSync(info.dataDir)).toBe(true);
      expect(await probePort(info.port)).toBe("connected");
      if (signal) child.kill(signal);
      const code = await exited;
      return { info, code, stderr };
    }

    function expectGone(info: { baseDir: string; port: number }): Promise<void> {
      expect(existsSync(info.baseDir)).toBe(false);
      expect(processArgs()).not.toContain(info.baseDir);
      return probePort(info.port).then((r) => expect(r).toBe("ECONNREFUSED"));
    }

    it("should leave no data dir and no running postgres after SIGINT", async () => {
      const { info, code } = await runChild("wait", "SIGINT");
      expect(code).toBe(130);
      await expectGone(info);
    });

    it("should leave no data dir and no running postgres after SIGTERM", async () => {
      const { info, code } = await runChild("wait", "SIGTERM");
      expect(code).toBe(143);
      await expectGone(info);
    });

    it("should clean up after an uncaught exception", async () => {
      const { info, code, stderr } = await runChild("throw");
      expect(code).toBe(1);
      expect(stderr).toContain("boom");
      await expectGone(info);
    });

    it("should clean up after an unhandled rejection", async () => {
      const { info, code } = await runChild("reject");
      expect(code).toBe(1);
      await expectGone(info);
    });
  });
});

describe("test support (shared cluster from globalSetup)", () => {
  async function tables(url: string): Promise<string[]> {
    const rows = await query<{ t: string }>(
      url,
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    return rows.map((r) => r.t);
  }

  it("should provide the admin url and the binaries", async () => {
    const ctx = pgTestContext();
    expect(adminUrl()).toBe(ctx.adminUrl);
    const [row] = await query<{ su: boolean }>(adminUrl(), "SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user");
    expect(row?.su).toBe(true);
    const bins = await pgBinaries();
    expect(existsSync(bins.pg_dump)).toBe(true);
  });

  it("should create uniquely named, migrated databases from the template", async () => {
    const dbs = await Promise.all([freshDatabase(), freshDatabase(), freshDatabase()]);
    try {
      expect(new Set(dbs.map((d) => d.name)).size).toBe(3);
      for (const db of dbs) {
        expect(db.name.startsWith(pgTestContext().dbPrefix)).toBe(true);
        const [row] = await query<{ db: string }>(db.url, "SELECT current_database() AS db");
        expect(row?.db).toBe(db.name);
        const t = await tables(db.url);
        expect(t).toContain("_prisma_migrations");
        expect(t).toContain("leagues");
      }
      // databases are independent
      await query(dbs[0]?.url ?? "", "CREATE TABLE only_here (id int)");
      expect(await tables(dbs[1]?.url ?? "")).not.toContain("only_here");
    } finally {
      await Promise.all(dbs.map((d) => d.drop()));
    }
    const left = await query(adminUrl(), "SELECT 1 FROM pg_database WHERE datname = ANY($1)", [dbs.map((d) => d.name)]);
    expect(left).toHaveLength(0);
  });

  it("should create an empty database with migrate: false", async () => {
    const db = await freshDatabase({ migrate: false });
    try {
      expect(await tables(db.url)).toEqual([]);
    } finally {
      await db.drop();
      await db.drop(); // idempotent
    }
  });
});
