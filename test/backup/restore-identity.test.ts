/**
 * Backups and restores bound to their database: two databases on one cluster, one backup
 * folder, one environment. A restore never puts one database's backup into another unless asked
 * to; `latest` is this database's newest backup of a committed run.
 */
import { beforeEach, describe, expect, it } from "vitest";
import pg from "pg";
import { manifestPathOf, markCommitting } from "../../src/backup/manifest.js";
import { restoreById } from "../../src/commands/restore.js";
import { listBackups } from "../../src/backup/retention.js";
import { adminUrl, type FreshDatabase } from "../support/postgres.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import {
  clone,
  failure,
  nextRelease,
  rejection,
  sql,
  STANDARD_TABLES,
  stateOf,
  useTestDatabase,
  useTestProject,
} from "../fixtures/core/kit.js";
import { asIfKilledBeforeCommit, downgradeToFormat1, markRun } from "./support.js";

const { db: a, ws } = useTestProject();
const b = useTestDatabase();
let etl: AtomicEtl;

function changed() {
  const r = clone(nextRelease());
  (r["leagues.json"] as Record<string, unknown>[])[0]!.name = "Premier League (changed)";
  return r;
}

beforeEach(async () => {
  await ws.writeRelease("A", nextRelease());
  await ws.writeRelease("C", changed());
  etl = new AtomicEtl(ws.config({ A: { tables: STANDARD_TABLES }, C: { tables: STANDARD_TABLES } }));
});

/** An import with a backup that committed, as the runner will mark it. */
async function committedImport(release: string, db: FreshDatabase) {
  const report = await etl.import({ release, url: db.url });
  await markRun(report);
  return report;
}

describe("restore bound to its database", () => {
  it("should refuse another database's backup with BACKUP_WRONG_DATABASE (exit 11), naming both, restoring nothing", async () => {
    const fromB = await committedImport("A", b);
    await etl.import({ release: "C", url: a.url, backup: false });
    const before = await stateOf(a.url);

    const e = await rejection(restoreById(etl.config, { id: fromB.backup!.id, url: a.url }));

    expect(e.code).toBe("BACKUP_WRONG_DATABASE");
    expect(e.exitCode).toBe(11);
    expect(e.data).toBe("untouched");
    const [oids] = await sql<{ a: string; b: string }>(
      adminUrl(),
      `SELECT (SELECT oid::text FROM pg_database WHERE datname = '${a.name}') AS a, (SELECT oid::text FROM pg_database WHERE datname = '${b.name}') AS b`,
    );
    expect(e.message).toContain(`is of database ${b.name} (oid ${oids!.b}, system `);
    expect(e.message).toContain(`this is database ${a.name} (oid ${oids!.a}, system `);
    expect(e.message).not.toContain(new URL(adminUrl()).password);
    expect(e.next).toContain(`atomic-etl restore ${fromB.backup!.id} --env local --into-other-database`);
    expect(await stateOf(a.url)).toEqual(before);
  });

  it("should restore another database's backup on purpose with intoOtherDatabase, after this database's schema check", async () => {
    const stateOfB = await stateOf(b.url);
    const fromB = await committedImport("C", b);
    await sql(a.url, "ALTER TABLE teams ADD COLUMN city text");

    const mismatch = await rejection(restoreById(etl.config, { id: fromB.backup!.id, url: a.url, intoOtherDatabase: true }));
    expect(mismatch.code).toBe("RESTORE_SCHEMA_MISMATCH");
    expect(mismatch.message).toContain("teams: now has column city (text)");

    await sql(a.url, "ALTER TABLE teams DROP COLUMN city");
    const r = await restoreById(etl.config, { id: fromB.backup!.id, url: a.url, intoOtherDatabase: true });
    expect(r.id).toBe(fromB.backup!.id);
    expect(await stateOf(a.url)).toEqual(stateOfB);
  });

  it("should take `latest` from this database only, even when another database's backup is newer", async () => {
    const stateOfA = await stateOf(a.url);
    const fromA = await committedImport("A", a);
    // ids carry the second: start B's in the next one, so its id is newer whatever the run ids are
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
    const fromB = await committedImport("A", b);
    expect(fromB.backup!.id > fromA.backup!.id).toBe(true);

    const r = await restoreById(etl.config, { id: "latest", url: a.url });

    expect(r.id).toBe(fromA.backup!.id);
    expect(await stateOf(a.url)).toEqual(stateOfA);
  });

  it("should say BACKUP_NOT_FOUND for `latest` of a database that has none, counting the other databases' backups", async () => {
    await committedImport("A", b);
    const e = await rejection(restoreById(etl.config, { id: "latest", url: a.url }));
    expect(e.code).toBe("BACKUP_NOT_FOUND");
    expect(e.message).toContain(`no committed backup of ${a.name} (oid `);
    expect(e.message).toContain("; the folder holds 1 backup of other databases or schemas");
    expect(e.next).toContain("--into-other-database");
  });

  it("should skip backups of pending and rolled-back runs for `latest`", async () => {
    const seeded = await stateOf(a.url);
    const first = await committedImport("A", a);
    await markRun(await etl.import({ release: "C", url: a.url }), "rolled back");
    await asIfKilledBeforeCommit(await etl.import({ release: "A", url: a.url }));

    const r = await restoreById(etl.config, { id: "latest", url: a.url });

    expect(r.id).toBe(first.backup!.id);
    expect(await stateOf(a.url)).toEqual(seeded);
  });

  it("should take a pending backup as `latest` once its run's recorded COMMIT landed, and skip it when that transaction aborted", async () => {
    const seeded = await stateOf(a.url);
    // what the runner records right before COMMIT; nothing marks either run afterwards, as when killed
    const recordTxid = async ({ txid }: { txid: string }) => {
      const [newest] = await listBackups(ws.backupDir);
      await markCommitting(newest!.manifestPath, txid);
    };
    const landed = await etl.import({ release: "A", url: a.url, hooks: { beforeCommit: recordTxid } });
    const stopped = async (e: { txid: string }) => {
      await recordTxid(e);
      throw new Error("stopped right before COMMIT");
    };
    await failure(etl.import({ release: "C", url: a.url, hooks: { beforeCommit: stopped } }));

    const r = await restoreById(etl.config, { id: "latest", url: a.url });

    expect(r.id).toBe(landed.backup!.id);
    expect(await stateOf(a.url)).toEqual(seeded);
    const outcomes = (await listBackups(ws.backupDir)).map((b) => b.manifest.run?.outcome);
    expect(outcomes).toEqual(["rolled back", "committed"]);
  });

  it("should refuse `latest` with COMMIT_IN_DOUBT while the newest backup's recorded COMMIT is still in progress", async () => {
    await committedImport("A", a);
    const pending = await etl.import({ release: "C", url: a.url });
    await markRun(pending, "pending"); // as if killed while its COMMIT was in flight
    const tx = new pg.Client({ connectionString: a.url });
    await tx.connect();
    try {
      await tx.query("BEGIN");
      const { rows } = await tx.query<{ txid: string }>("SELECT txid_current()::text AS txid");
      await markCommitting(manifestPathOf(pending.backup!.path), rows[0]!.txid);
      const before = await stateOf(a.url);

      const e = await rejection(restoreById(etl.config, { id: "latest", url: a.url }));

      expect(e.code).toBe("COMMIT_IN_DOUBT");
      expect(e.message).toContain(
        `the newest backup ${pending.backup!.id} belongs to a run whose COMMIT (transaction ${rows[0]!.txid}) is in progress`,
      );
      expect(e.data).toBe("untouched");
      expect(await stateOf(a.url)).toEqual(before);
    } finally {
      await tx.query("ROLLBACK");
      await tx.end();
    }
  });

  it("should never take a format-1 backup (identity unknown) as `latest`, and restore one only on purpose", async () => {
    const before = await stateOf(a.url);
    const old = await committedImport("A", a);
    await downgradeToFormat1(old.backup!.path);

    const latest = await rejection(restoreById(etl.config, { id: "latest", url: a.url }));
    expect(latest.code).toBe("BACKUP_NOT_FOUND");
    expect(latest.message).toContain("1 backup of unknown identity (format 1)");

    const byId = await rejection(restoreById(etl.config, { id: old.backup!.id, url: a.url }));
    expect(byId.code).toBe("BACKUP_IDENTITY_UNKNOWN");
    expect(byId.exitCode).toBe(11);
    expect(byId.message).toContain(`records only a database name ("${a.name}"), no identity`);

    await restoreById(etl.config, { id: old.backup!.id, url: a.url, intoOtherDatabase: true });
    expect(await stateOf(a.url)).toEqual(before);
  });

  it("should refuse `latest` with intoOtherDatabase as USAGE: another database's backup needs its id", async () => {
    const e = await rejection(restoreById(etl.config, { id: "latest", url: a.url, intoOtherDatabase: true }));
    expect(e.code).toBe("USAGE");
    expect(e.exitCode).toBe(2);
  });
});
