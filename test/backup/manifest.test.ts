import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BackupManifest, markBackupOutcome, markCommitting, readManifest, writeManifest } from "../../src/backup/manifest.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-manifest-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const ID = "20261121T212749Z_local_r_01234567";
const manifest = (): BackupManifest => ({
  formatVersion: 2,
  id: ID,
  createdAt: "2026-11-21T21:27:49.123Z",
  environment: "local",
  release: "r",
  releaseHash: null,
  runId: "0123456789",
  database: "app",
  identity: { systemIdentifier: "7301234567890123456", database: "app", oid: 16384 },
  run: { outcome: "pending", decidedAt: null, txid: null },
  schema: "public",
  serverVersion: "15.8",
  pgDumpVersion: "pg_dump (PostgreSQL) 15.8",
  mode: "tables",
  compression: "gzip:6",
  dumpFile: `${ID}.dump`,
  sizeBytes: 10,
  sha256: "0".repeat(64),
  durationMs: 5,
  tables: { teams: { rows: 1, hash: "1", columns: [{ name: "id", type: "integer" }], partitions: null } },
  otherTables: [],
});

describe("manifest", () => {
  it("should record the run's outcome atomically: 0600, no temporary file left, the rest unchanged", async () => {
    const file = path.join(dir, `${ID}.manifest.json`);
    await writeManifest(file, manifest());

    const marked = await markBackupOutcome(file, "committed");

    expect(marked.run.outcome).toBe("committed");
    expect(Date.parse(marked.run.decidedAt ?? "")).not.toBeNaN();
    expect(await readManifest(file)).toEqual({ ...manifest(), run: marked.run });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([`${ID}.manifest.json`]);
  });

  it("should record the transaction id before COMMIT, keeping the outcome pending, and keep it when the outcome is marked", async () => {
    const file = path.join(dir, `${ID}.manifest.json`);
    await writeManifest(file, manifest());

    expect((await markCommitting(file, "7421")).run).toEqual({ outcome: "pending", decidedAt: null, txid: "7421" });
    expect((await markBackupOutcome(file, "rolled back")).run).toMatchObject({ outcome: "rolled back", txid: "7421" });
    expect(await readdir(dir)).toEqual([`${ID}.manifest.json`]);
  });

  it("should read a format-1 manifest as identity and outcome unknown, and refuse to mark it", async () => {
    const file = path.join(dir, `${ID}.manifest.json`);
    const { identity: _i, run: _r, otherTables: _o, ...v2 } = manifest();
    await writeFile(file, JSON.stringify({ ...v2, formatVersion: 1, tables: { teams: { rows: 1, hash: "1", columns: [] } } }));

    const m = await readManifest(file);

    expect(m).toMatchObject({ formatVersion: 1, identity: null, run: null, otherTables: [], database: "app" });
    expect(m.tables.teams!.partitions).toBeNull();
    await expect(markBackupOutcome(file, "committed")).rejects.toThrow(/format-1 manifest/);
    expect(JSON.parse(await readFile(file, "utf8")).formatVersion).toBe(1);
  });

  it("should refuse to write a manifest whose identity names another database than its name", async () => {
    const m = manifest();
    await expect(writeManifest(path.join(dir, "x.manifest.json"), { ...m, database: "other" })).rejects.toThrow(/identity.database/);
    expect(await readdir(dir)).toEqual([]);
  });
});
