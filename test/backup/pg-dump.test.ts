import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { manifestPathOf, readManifest } from "../../src/backup/manifest.js";
import { takeBackup } from "../../src/backup/pg-dump.js";
import { restoreBackup } from "../../src/backup/restore.js";
import { inspectDump } from "../../src/backup/verify.js";
import { sha256File } from "../../src/release/release-files.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { failure, fingerprints, nextRelease, rejection, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";
import { pgBinaries } from "../support/postgres.js";
import { envGuard, fakeOldPgDump, fakePgDump16WithoutZstd, fingerprintsOf, standInPgDump } from "./support.js";

const TARGETS = ["leagues", "teams", "players", "matches", "player_match_stats"];

const { db, ws } = useTestProject();
let etl: AtomicEtl;
let restoreEnv: () => void;

beforeEach(async () => {
  restoreEnv = envGuard("PATH", "PG_BIN_DIR");
  await ws.writeRelease("A", nextRelease());
  etl = new AtomicEtl(ws.config({ A: { tables: STANDARD_TABLES } }));
});

afterEach(async () => {
  restoreEnv();
});

const pub = (names: readonly string[]) => names.map((name) => ({ schema: "public", name }));

const backupRequest = (dir: string) => ({
  url: db.url,
  schema: "public",
  tables: TARGETS,
  dir,
  mode: "tables" as const,
  environment: "local",
  release: "A",
  releaseHash: null,
  runId: "0123456789abcdef-run",
});

describe("takeBackup", () => {
  it("should write a 0600 custom-format dump and manifest named time_environment_release_run", async () => {
    const before = await fingerprints(db.url);
    const report = await etl.import({ release: "A", url: db.url });

    const dumpPath = report.backup!.path;
    expect(path.basename(dumpPath)).toMatch(/^\d{8}T\d{6}Z_local_A_[0-9a-f]{8}\.dump$/);
    expect((await stat(dumpPath)).mode & 0o777).toBe(0o600);
    expect((await stat(manifestPathOf(dumpPath))).mode & 0o777).toBe(0o600);
    expect((await readFile(dumpPath)).subarray(0, 5).toString()).toBe("PGDMP");

    const m = await readManifest(manifestPathOf(dumpPath));
    const [server] = await sql<{ v: string }>(db.url, "SELECT current_setting('server_version') AS v");
    const [me] = await sql<{ sys: string; oid: string }>(
      db.url,
      "SELECT (SELECT system_identifier::text FROM pg_control_system()) AS sys, oid::text FROM pg_database WHERE datname = current_database()",
    );
    expect(m).toMatchObject({
      formatVersion: 2,
      identity: { systemIdentifier: me!.sys, database: db.name, oid: Number(me!.oid) },
      otherTables: [],
      id: report.backup!.id,
      environment: "local",
      release: "A",
      runId: report.runId,
      database: db.name,
      schema: "public",
      serverVersion: server!.v,
      mode: "tables",
      dumpFile: path.basename(dumpPath),
      sizeBytes: (await stat(dumpPath)).size,
      sha256: await sha256File(dumpPath),
    });
    expect(m.releaseHash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.pgDumpVersion).toMatch(/^pg_dump \(PostgreSQL\) \d+/);
    expect(m.compression).toBe((await pgBinaries()).major >= 16 ? "zstd:3" : "gzip:1");
    // the manifest holds the state the dump holds: the one before the import
    expect(Object.keys(m.tables)).toEqual(TARGETS);
    for (const t of TARGETS) expect({ rows: m.tables[t]!.rows, hash: m.tables[t]!.hash }).toEqual(before[t]);
    for (const t of TARGETS) expect(m.tables[t]!.partitions).toBeNull();
    expect(m.tables.teams!.columns.map((c) => `${c.name} ${c.type}`)).toEqual([
      "id integer",
      "league_id integer",
      "name character varying(100)",
      "short_name character varying(10)",
      "founded smallint",
    ]);
  });

  it("should hold exactly the target tables' data, as pg_restore --list shows", async () => {
    const { dumpPath } = await takeBackup(backupRequest(ws.backupDir));
    const entries = await inspectDump(dumpPath, pub(TARGETS), "tables", { deep: true, step: "backup" });
    expect(entries.map((e) => e.name).sort()).toEqual([...TARGETS].sort());
    const e = await rejection(inspectDump(dumpPath, pub([...TARGETS, "other"]), "tables", { deep: false, step: "backup" }));
    expect(e.code).toBe("BACKUP_VERIFY_FAILED");
    expect(e.message).toContain("missing public.other");
    const fewer = await rejection(inspectDump(dumpPath, pub(["leagues"]), "tables", { deep: false, step: "backup" }));
    expect(fewer.message).toMatch(/unexpected .*public\.teams/);
  });

  it("should refuse a file pg_restore cannot read with BACKUP_VERIFY_FAILED", async () => {
    const junk = path.join(ws.root, "junk.dump");
    await writeFile(junk, "not a dump");
    const e = await rejection(inspectDump(junk, pub(TARGETS), "tables", { deep: false, step: "backup" }));
    expect(e.code).toBe("BACKUP_VERIFY_FAILED");
    expect(e.message).toContain("cannot be read by pg_restore");
  });

  it("should dump the whole database with mode full", async () => {
    await sql(db.url, "CREATE TABLE side_notes (id int PRIMARY KEY, note text)", "INSERT INTO side_notes VALUES (1, 'kept too')");
    const { dumpPath, manifest } = await takeBackup({ ...backupRequest(ws.backupDir), mode: "full" });
    expect(manifest.mode).toBe("full");
    expect(Object.keys(manifest.tables)).toEqual(TARGETS);
    // every other table of the dump is in the manifest too, with its fingerprint
    const side = manifest.otherTables.find((t) => t.name === "side_notes");
    expect(side).toMatchObject({ schema: "public", rows: 1, partitions: null });
    expect({ rows: side!.rows, hash: side!.hash }).toEqual((await fingerprintsOf(db.url, ["side_notes"])).side_notes);
    const list = await execa((await pgBinaries()).pg_restore, ["--list", dumpPath]);
    expect(list.stdout).toMatch(/TABLE DATA public side_notes /);
  });

  it("should stop the import before any change with BACKUP_CLIENT_TOO_OLD when pg_dump is older than the server", async () => {
    const fake = path.join(ws.root, "old-bin");
    await fakeOldPgDump(fake, "9.6.0");
    delete process.env.PG_BIN_DIR;
    process.env.PATH = `${fake}${path.delimiter}${process.env.PATH ?? ""}`;
    const before = await stateOf(db.url);
    const [server] = await sql<{ n: string }>(db.url, "SELECT current_setting('server_version_num') AS n");
    const major = Math.floor(Number(server!.n) / 10000);

    const f = await failure(etl.import({ release: "A", url: db.url }));

    expect(f.error.code).toBe("BACKUP_CLIENT_TOO_OLD");
    expect(f.error.exitCode).toBe(10);
    expect(f.error.message).toContain("pg_dump (PostgreSQL) 9.6.0");
    expect(f.error.message).toContain(`install the PostgreSQL ${major} client (Debian/Ubuntu: postgresql-client-${major})`);
    expect(f.error.message).toContain("--no-backup");
    expect(f.error.data).toBe("untouched");
    expect(await stateOf(db.url)).toEqual(before);
    expect(await readdir(ws.backupDir).catch(() => [])).toEqual([]);
  });

  it("should fall back to gzip when a pg_dump 16 was built without zstd", async () => {
    const fake = path.join(ws.root, "pg16-bin");
    await fakePgDump16WithoutZstd(fake);
    process.env.PG_BIN_DIR = fake;

    const { manifest, dumpPath } = await takeBackup(backupRequest(ws.backupDir));

    expect(manifest.compression).toBe("gzip:1");
    expect(manifest.pgDumpVersion).toBe("pg_dump (PostgreSQL) 16.4");
    const list = await execa((await pgBinaries()).pg_restore, ["--list", dumpPath]);
    expect(list.stdout).toMatch(/Compression: (gzip|1)\b/);
    const before = await stateOf(db.url);
    await sql(db.url, "DELETE FROM player_match_stats");
    await restoreBackup(db.url, dumpPath, manifest);
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should stop the import before any change, keeping no file, when the dump does not read back", async () => {
    const real = await pgBinaries();
    const fake = path.join(ws.root, "halving-bin");
    // a pg_dump that "succeeds" but leaves a dump whose data is cut short
    await standInPgDump(fake, [
      `if [ "$1" = "--version" ]; then exec "${real.pg_dump}" --version; fi`,
      `"${real.pg_dump}" "$@" || exit $?`,
      `for a in "$@"; do case "$a" in --file=*) f="\${a#--file=}" ;; esac; done`,
      `[ -n "$f" ] || exit 0`,
      `size=$(wc -c < "$f"); head -c $((size - 40)) "$f" > "$f.cut" && cat "$f.cut" > "$f" && rm "$f.cut"`,
    ]);
    process.env.PG_BIN_DIR = fake;
    const before = await stateOf(db.url);

    const f = await failure(etl.import({ release: "A", url: db.url }));

    expect(f.error.code).toBe("BACKUP_VERIFY_FAILED");
    expect(f.error.message).toContain("unreadable past its table of contents");
    expect(f.error.data).toBe("untouched");
    expect(await stateOf(db.url)).toEqual(before);
    expect(await readdir(ws.backupDir)).toEqual([]);
  });

  /** A pg_dump that runs `before` (shell) when asked to dump from a snapshot, then the real one; the real pg_restore and psql. */
  async function pgDumpThat(name: string, before: string): Promise<void> {
    const fake = path.join(ws.root, name);
    await standInPgDump(fake, [`case "$*" in *--snapshot=*) ${before} ;; esac`, `exec "${(await pgBinaries()).pg_dump}" "$@"`]);
    process.env.PG_BIN_DIR = fake;
  }

  // the run's own sessions in this test's database (the one exporting the snapshot among them)
  const cutRunSessions = async () =>
    `PGAPPNAME=cutter "${(await pgBinaries()).psql}" -qAt -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name ~ '^atomic-etl:[0-9a-f]{8}$' AND datname = current_database()" > /dev/null || exit 98`;

  it("should fail with CONNECTION_LOST, keeping no file, when the session that exported the dump's snapshot is cut", async () => {
    await pgDumpThat("cutting-bin", await cutRunSessions());
    const before = await stateOf(db.url);

    const f = await failure(etl.import({ release: "A", url: db.url }));

    expect(f.error.code).toBe("CONNECTION_LOST");
    expect(f.error.step).toBe("backup");
    expect(f.error.data).toBe("untouched");
    expect(await stateOf(db.url)).toEqual(before);
    expect(await readdir(ws.backupDir)).toEqual([]);
  });

  it("should report pg_dump's own error, not the lost session, when the dump fails for its own reason", async () => {
    await pgDumpThat(
      "full-disk-bin",
      `${await cutRunSessions()}; echo "pg_dump: error: could not write to output file: No space left on device" >&2; exit 1`,
    );

    const f = await failure(etl.import({ release: "A", url: db.url }));

    expect(f.error.code).toBe("BACKUP_FAILED");
    expect(f.error.message).toContain("No space left on device");
    expect(f.error.data).toBe("untouched");
    expect(await readdir(ws.backupDir)).toEqual([]);
  });

  it("should keep its snapshot through a dump longer than the database's idle_in_transaction_session_timeout", async () => {
    await sql(db.url, `ALTER DATABASE "${db.name}" SET idle_in_transaction_session_timeout = '300ms'`);
    try {
      await pgDumpThat("slow-bin", "sleep 1");
      const report = await etl.import({ release: "A", url: db.url });
      expect(report.outcome).toBe("committed");
      expect(report.backup?.id).toBeTruthy();
    } finally {
      await sql(db.url, `ALTER DATABASE "${db.name}" RESET idle_in_transaction_session_timeout`);
    }
  });

  it("should refuse --no-backup in production with NO_BACKUP_FORBIDDEN unless the config allows it", async () => {
    const before = await stateOf(db.url);
    const f = await failure(etl.import({ release: "A", url: db.url, env: "production", force: true, backup: false }));
    expect(f.error.code).toBe("NO_BACKUP_FORBIDDEN");
    expect(f.error.exitCode).toBe(2);
    expect(await stateOf(db.url)).toEqual(before);

    const allowed = new AtomicEtl(ws.config({ A: { tables: STANDARD_TABLES } }, { environments: { production: { allowNoBackup: true } } }));
    const report = await allowed.import({ release: "A", url: db.url, env: "production", force: true, backup: false });
    expect(report.outcome).toBe("committed");
    expect(report.backup).toBeNull();
  });
});
