import { rm, stat } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import { type BackupManifest, manifestPathOf, readManifest, writeManifest } from "../../src/backup/manifest.js";
import { restoreBackup } from "../../src/backup/restore.js";
import { restoreById } from "../../src/commands/restore.js";
import { sha256File } from "../../src/release/release-files.js";
import { fingerprintTable } from "../../src/db/fingerprint.js";
import { pgTx } from "../../src/db/pg-client.js";
import { acquireRunLock } from "../../src/db/advisory-lock.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { clone, nextRelease, rejection, snapshot, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";
import { corruptMiddle, cutTail, markRun, truncateTo } from "./support.js";

const { db, ws } = useTestProject({ seed: false });
let etl: AtomicEtl;

/** Release B: renames, drops and adds rows of every table relative to release A. */
function releaseB() {
  const r = clone(nextRelease());
  const rows = (f: string) => r[f] as Record<string, unknown>[];
  rows("leagues.json")[0]!.name = "Premier League (B)";
  rows("teams.json").push({ id: 12, leagueId: 1, name: "Everton", shortName: "EVE", founded: 1878 });
  rows("players.json").splice(1, 1);
  rows("players.json").push({ id: 120, teamId: 12, fullName: "Gi New", position: "FORWARD", updatedAt: "2026-05-01T10:00:00Z" });
  r["player_match_stats.json"] = rows("player_match_stats.json")
    .filter((s) => s.playerId !== 101)
    .concat([{ id: 9, playerId: 120, matchId: 1001, minutesPlayed: 12, goals: 2, createdAt: "2026-05-01T17:00:00Z" }]);
  return r;
}

beforeEach(async () => {
  await ws.writeRelease("A", nextRelease());
  await ws.writeRelease("B", releaseB());
  etl = new AtomicEtl(ws.config({ A: { tables: STANDARD_TABLES }, B: { tables: STANDARD_TABLES } }));
});

/** Imports A without a backup, then B with one; returns A's state and B's backup id. */
async function importAThenB(backup: "tables" | "full" = "tables") {
  await etl.import({ release: "A", url: db.url, backup: false });
  const a = await stateOf(db.url);
  const report = await etl.import({ release: "B", url: db.url, backup });
  expect(report.backup).not.toBeNull();
  await markRun(report);
  return { a, id: report.backup!.id, dumpPath: report.backup!.path };
}

describe("restore", () => {
  it("should bring back every table exactly as it was before release B, by fingerprint and row by row", async () => {
    const { a, id } = await importAThenB();
    const b = await stateOf(db.url);
    expect(b.rows).not.toEqual(a.rows);

    const r = await restoreById(etl.config, { id, url: db.url });

    expect(r.id).toBe(id);
    expect(r.tables).toEqual(["leagues", "teams", "players", "matches", "player_match_stats"]);
    expect(await stateOf(db.url)).toEqual(a);
    // sequences are never left below the restored ids
    const [seq] = await sql<{ n: string }>(db.url, "SELECT nextval('player_match_stats_id_seq')::text AS n");
    expect(Number(seq?.n)).toBeGreaterThan(8);
  });

  it("should prove a backup whose manifest an older version wrote, in its fingerprint format (md5 of the row's text)", async () => {
    await etl.import({ release: "A", url: db.url, backup: false });
    const a = await stateOf(db.url);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const format1: Record<string, { rows: number; hash: string }> = {};
    try {
      for (const name of Object.keys(a.fingerprints)) format1[name] = await fingerprintTable(pgTx(c), { schema: "public", name }, 1);
    } finally {
      await c.end();
    }
    const report = await etl.import({ release: "B", url: db.url, backup: "tables" });
    await markRun(report);
    const file = manifestPathOf(report.backup!.path);
    const m = await readManifest(file);
    for (const [name, t] of Object.entries(m.tables)) Object.assign(t, format1[name]);
    await writeManifest(file, m as BackupManifest);
    await restoreById(etl.config, { id: report.backup!.id, url: db.url });
    expect(await stateOf(db.url)).toEqual(a);
  });

  it("should restore the newest committed backup of this database in the environment for `latest`", async () => {
    const { a } = await importAThenB();
    const r = await restoreById(etl.config, { id: "latest", url: db.url });
    expect(r.rows).toBe(Object.values(a.fingerprints).reduce((n, f) => n + f.rows, 0));
    expect(await stateOf(db.url)).toEqual(a);
  });

  it("should restore the target tables from a --backup=full dump", async () => {
    const { a, id } = await importAThenB("full");
    expect((await readManifest(manifestPathOf(path.join(ws.backupDir, `${id}.dump`)))).mode).toBe("full");
    await restoreById(etl.config, { id, url: db.url });
    expect(await stateOf(db.url)).toEqual(a);
  });

  it("should refuse a corrupted dump with BACKUP_VERIFY_FAILED and leave the database unchanged", async () => {
    const { id, dumpPath } = await importAThenB();
    const b = await stateOf(db.url);
    await corruptMiddle(dumpPath);

    const e = await rejection(restoreById(etl.config, { id, url: db.url }));

    expect(e.code).toBe("BACKUP_VERIFY_FAILED");
    expect(e.message).toMatch(/sha256/);
    expect(e.data).toBe("untouched");
    expect(await stateOf(db.url)).toEqual(b);
  });

  it("should refuse a corrupted `latest` and name the newest backup that verifies, restoring nothing", async () => {
    await etl.import({ release: "A", url: db.url, backup: false });
    const older = await etl.import({ release: "B", url: db.url, backup: "tables" });
    const newer = await etl.import({ release: "A", url: db.url, backup: "tables" });
    await markRun(older);
    await markRun(newer);
    const state = await stateOf(db.url);
    await corruptMiddle(newer.backup!.path);

    const e = await rejection(restoreById(etl.config, { id: "latest", url: db.url }));

    expect(e.code).toBe("BACKUP_VERIFY_FAILED");
    expect(e.message).toContain(newer.backup!.id);
    expect(e.next).toContain(`atomic-etl restore ${older.backup!.id} --env local`);
    expect(await stateOf(db.url)).toEqual(state);
  });

  it("should refuse a truncated dump with BACKUP_VERIFY_FAILED and leave the database unchanged", async () => {
    const { id, dumpPath } = await importAThenB();
    const b = await stateOf(db.url);
    await truncateTo(dumpPath, 0.6);

    const e = await rejection(restoreById(etl.config, { id, url: db.url }));

    expect(e.code).toBe("BACKUP_VERIFY_FAILED");
    expect(e.message).toMatch(/truncated/);
    expect(await stateOf(db.url)).toEqual(b);
  });

  it("should roll the whole restore back when the dump breaks mid-way, even with a matching checksum", async () => {
    const { id, dumpPath } = await importAThenB();
    const b = await stateOf(db.url);
    // a dump already broken when its manifest was written: its table of contents reads fine,
    // only replaying its data finds out
    await cutTail(dumpPath, 40);
    const m = (await readManifest(manifestPathOf(dumpPath))) as BackupManifest;
    await rm(manifestPathOf(dumpPath));
    await writeManifest(manifestPathOf(dumpPath), { ...m, sizeBytes: (await stat(dumpPath)).size, sha256: await sha256File(dumpPath) });

    const e = await rejection(restoreById(etl.config, { id, url: db.url }));

    expect(e.code).toBe("RESTORE_FAILED");
    expect(e.data).toBe("rolled back; database unchanged");
    expect(await stateOf(db.url)).toEqual(b);
  });

  it("should refuse with RESTORE_SCHEMA_MISMATCH when a column was added since the backup", async () => {
    const { id } = await importAThenB();
    await sql(db.url, "ALTER TABLE players ADD COLUMN nickname text");
    const before = await stateOf(db.url);

    const e = await rejection(restoreById(etl.config, { id, url: db.url }));

    expect(e.code).toBe("RESTORE_SCHEMA_MISMATCH");
    expect(e.message).toContain("players: now has column nickname (text)");
    expect(e.exitCode).toBe(11);
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should refuse with RESTORE_SCHEMA_MISMATCH when a column's type changed since the backup", async () => {
    const { id } = await importAThenB();
    await sql(db.url, "ALTER TABLE teams ALTER COLUMN short_name TYPE varchar(20)");

    const e = await rejection(restoreById(etl.config, { id, url: db.url }));

    expect(e.code).toBe("RESTORE_SCHEMA_MISMATCH");
    expect(e.message).toContain("teams: column short_name is now character varying(20), was character varying(10)");
  });

  it("should leave the database as before the restore when the last table fails mid-restore", async () => {
    const { id } = await importAThenB();
    await sql(
      db.url,
      `CREATE FUNCTION refuse_stats() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure on player_match_stats'; END $$`,
      `CREATE TRIGGER refuse_stats BEFORE INSERT ON player_match_stats FOR EACH ROW EXECUTE FUNCTION refuse_stats()`,
    );
    const b = await stateOf(db.url);

    const e = await rejection(restoreById(etl.config, { id, url: db.url }));

    expect(e.code).toBe("RESTORE_FAILED");
    expect(e.message).toContain("injected failure on player_match_stats");
    expect(e.data).toBe("rolled back; database unchanged");
    expect(await stateOf(db.url)).toEqual(b);
  });

  it("should roll back with RESTORE_VERIFY_FAILED when the restored rows do not equal the manifest", async () => {
    const { id } = await importAThenB();
    await sql(
      db.url,
      `CREATE FUNCTION bump_goals() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.goals := NEW.goals + 1; RETURN NEW; END $$`,
      `CREATE TRIGGER bump_goals BEFORE INSERT ON player_match_stats FOR EACH ROW EXECUTE FUNCTION bump_goals()`,
    );
    const b = await stateOf(db.url);

    const e = await rejection(restoreById(etl.config, { id, url: db.url }));

    expect(e.code).toBe("RESTORE_VERIFY_FAILED");
    expect(e.meta.tables).toEqual(["player_match_stats"]);
    expect(e.data).toBe("rolled back; database unchanged");
    expect(await stateOf(db.url)).toEqual(b);
  });

  it("should fail with LOCK_HELD and touch nothing while another run holds the lock", async () => {
    const { id } = await importAThenB();
    const b = await snapshot(db.url);
    const lock = await acquireRunLock(db.url, "public", { applicationName: "atomic-etl:test-holder" });
    try {
      const e = await rejection(restoreById(etl.config, { id, url: db.url }));
      expect(e.code).toBe("LOCK_HELD");
    } finally {
      await lock.release();
    }
    expect(await snapshot(db.url)).toEqual(b);
  });

  it("should give up after lockTimeoutMs, restoring nothing, while another session writes to a table", async () => {
    const { dumpPath } = await importAThenB();
    const b = await stateOf(db.url);
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    try {
      await writer.query("BEGIN");
      await writer.query("UPDATE leagues SET name = name WHERE id = 1");

      const e = await rejection(restoreBackup(db.url, dumpPath, await readManifest(manifestPathOf(dumpPath)), { lockTimeoutMs: 300 }));

      expect(e.code).toBe("RESTORE_FAILED");
      expect(e.message).toMatch(/lock timeout/);
      expect(e.data).toBe("rolled back; database unchanged");
    } finally {
      await writer.query("ROLLBACK");
      await writer.end();
    }
    expect(await stateOf(db.url)).toEqual(b);
  });

  it("should refuse production without --force with PRODUCTION_REQUIRES_FORCE (exit 2)", async () => {
    const { id } = await importAThenB();
    const b = await snapshot(db.url);
    const e = await rejection(restoreById(etl.config, { id, env: "production", url: db.url }));
    expect(e.code).toBe("PRODUCTION_REQUIRES_FORCE");
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^DANGER/);
    expect(await snapshot(db.url)).toEqual(b);
  });

  it("should say BACKUP_NOT_FOUND for an unknown id or another environment's backup", async () => {
    const { id } = await importAThenB();
    expect((await rejection(restoreById(etl.config, { id: "nope", url: db.url }))).code).toBe("BACKUP_NOT_FOUND");
    expect((await rejection(restoreById(etl.config, { id, env: "staging", url: db.url }))).code).toBe("BACKUP_NOT_FOUND");
  });
});
