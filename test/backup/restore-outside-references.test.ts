/**
 * Restoring a backup of a partial release while tables outside it reference its tables: the
 * outside rows are never deleted, cascaded into or set to NULL, and rows that would lose their
 * parent are named instead of silently broken. Same function for `atomic-etl restore` and for
 * the library's `restoreBackup(url, dump, manifest, { log })`, whose default scope is the backup's
 * targets (there is no automatic restore after a failed run: its rollback undoes it).
 */
import { beforeEach, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { markBackupOutcome } from "../../src/backup/manifest.js";
import { takeBackup } from "../../src/backup/pg-dump.js";
import { restoreBackup } from "../../src/backup/restore.js";
import { restoreById } from "../../src/commands/restore.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { silentLogger } from "../../src/reporting/logger.js";
import { nextRelease, rejection, sql, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";
import { adminUrl } from "../support/postgres.js";

const { db, ws } = useTestProject();
let etl: AtomicEtl;

const OUTSIDE = ["player_match_stats", "player_notes", "player_tags"];

beforeEach(async () => {
  await ws.writeRelease("A", nextRelease());
  etl = new AtomicEtl(ws.config({ A: { tables: STANDARD_TABLES } }));
  await etl.import({ release: "A", url: db.url, backup: false });
  await sql(
    db.url,
    "CREATE TABLE player_notes (id int PRIMARY KEY, player_id int NOT NULL REFERENCES players(id) ON DELETE CASCADE, note text)",
    "CREATE TABLE player_tags (id int PRIMARY KEY, player_id int REFERENCES players(id) ON DELETE SET NULL, tag text)",
    "INSERT INTO player_notes VALUES (1, 100, 'keeper'), (2, 210, 'fast')",
    "INSERT INTO player_tags VALUES (1, 101, 'captain'), (2, 111, NULL)",
  );
});

/** A backup of the release `players` alone, as the runner takes it, marked committed. */
async function playersBackup(mode: "tables" | "full" = "tables") {
  const b = await takeBackup({
    url: db.url,
    schema: "public",
    tables: ["players"],
    dir: ws.backupDir,
    mode,
    environment: "local",
    release: "players-only",
    releaseHash: null,
    runId: randomBytes(8).toString("hex"),
  });
  await markBackupOutcome(b.manifestPath, "committed");
  return b;
}

/** Every row of `tables`, sorted, as Postgres prints them. */
async function rowsOf(url: string, tables: readonly string[]) {
  const out: Record<string, string[]> = {};
  for (const t of tables) out[t] = (await sql<{ r: string }>(url, `SELECT x::text AS r FROM "${t}" x ORDER BY 1`)).map((r) => r.r);
  return out;
}

/** Every FK of the database with its definition. */
const foreignKeys = (url: string) =>
  sql<{ t: string; name: string; def: string }>(
    url,
    "SELECT conrelid::regclass::text AS t, conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2",
  );

describe("restore with outside references", () => {
  it("should restore a players-only backup by command while player_match_stats and others outside reference it, keeping their rows and FKs", async () => {
    const b = await playersBackup();
    const players = await rowsOf(db.url, ["players"]);
    const outside = await rowsOf(db.url, OUTSIDE);
    const fks = await foreignKeys(db.url);
    await sql(db.url, "UPDATE players SET full_name = full_name || ' (changed)', height_cm = NULL");

    const r = await restoreById(etl.config, { id: "latest", url: db.url });

    expect(r.id).toBe(b.manifest.id);
    expect(r.tables).toEqual(["players"]);
    expect(r.foreignKeys.sort()).toEqual([
      "public.player_match_stats.player_match_stats_player_id_fkey",
      "public.player_notes.player_notes_player_id_fkey",
      "public.player_tags.player_tags_player_id_fkey",
    ]);
    expect(await rowsOf(db.url, ["players"])).toEqual(players);
    expect(await rowsOf(db.url, OUTSIDE)).toEqual(outside);
    expect(await foreignKeys(db.url)).toEqual(fks);
  });

  it("should never cascade into or null out outside rows, through the library's restoreBackup", async () => {
    // no RESTRICT child with rows: a DELETE of players would pass, cascading into notes and nulling tags
    await sql(db.url, "DELETE FROM player_match_stats");
    const b = await playersBackup();
    const players = await rowsOf(db.url, ["players"]);
    const outside = await rowsOf(db.url, OUTSIDE);
    await sql(db.url, "UPDATE players SET full_name = 'changed'");

    await restoreBackup(db.url, b.dumpPath, b.manifest, { log: silentLogger() });

    expect(await rowsOf(db.url, ["players"])).toEqual(players);
    expect(await rowsOf(db.url, OUTSIDE)).toEqual(outside);
  });

  it("should name the outside rows that would lose their parent (RESTORE_WOULD_ORPHAN), roll back and keep everything", async () => {
    const b = await playersBackup();
    await sql(
      db.url,
      "INSERT INTO players (id, team_id, full_name, position, updated_at) VALUES (300, 10, 'Late Signing', 'FORWARD', now())",
      "INSERT INTO player_match_stats (id, player_id, match_id, minutes_played) VALUES (90, 300, 1000, 10)",
      "INSERT INTO player_notes VALUES (3, 300, 'new')",
      "UPDATE players SET full_name = 'changed' WHERE id = 100",
    );
    const all = await rowsOf(db.url, ["players", ...OUTSIDE]);
    const fks = await foreignKeys(db.url);

    const e = await rejection(restoreBackup(db.url, b.dumpPath, b.manifest));

    expect(e.code).toBe("RESTORE_WOULD_ORPHAN");
    expect(e.exitCode).toBe(11);
    expect(e.data).toBe("rolled back; database unchanged");
    expect(e.message).toContain(
      'public.player_match_stats row {"id":90} has {"player_id":300} (FK player_match_stats_player_id_fkey), which public.players does not hold in the backup',
    );
    expect(e.message).toContain('public.player_notes row {"id":3} has {"player_id":300} (FK player_notes_player_id_fkey)');
    expect(e.meta.orphans).toHaveLength(2);
    expect(e.next).toContain("--backup full");
    expect(await rowsOf(db.url, ["players", ...OUTSIDE])).toEqual(all);
    expect(await foreignKeys(db.url)).toEqual(fks);
  });

  it("should refuse with RESTORE_NOT_OWNER when the role may not alter an outside table, touching nothing", async () => {
    const b = await playersBackup();
    const role = `etl_${randomBytes(4).toString("hex")}`;
    await sql(adminUrl(), `CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    try {
      await sql(db.url, `ALTER TABLE players OWNER TO ${role}`, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
      await sql(db.url, "UPDATE players SET full_name = 'changed'");
      const before = await rowsOf(db.url, ["players", ...OUTSIDE]);
      const asRole = new URL(db.url);
      asRole.username = role;
      asRole.password = "pw";

      const e = await rejection(restoreBackup(asRole.toString(), b.dumpPath, b.manifest));

      expect(e.code).toBe("RESTORE_NOT_OWNER");
      expect(e.data).toBe("untouched");
      expect(e.message).toContain("player_match_stats_player_id_fkey on public.player_match_stats (owner postgres) → public.players");
      expect(e.next).toContain("run the restore as the owner of public.player_match_stats");
      expect(await rowsOf(db.url, ["players", ...OUTSIDE])).toEqual(before);
    } finally {
      await db.drop();
      await sql(adminUrl(), `DROP ROLE ${role}`);
    }
  });

  it("should restore every table of a --backup full backup by command, and only the run's tables with the library's default scope", async () => {
    await sql(db.url, "CREATE TABLE side_notes (id int PRIMARY KEY, note text)", "INSERT INTO side_notes VALUES (1, 'kept')");
    const b = await playersBackup("full");
    expect(Object.keys(b.manifest.tables)).toEqual(["players"]);
    expect(b.manifest.otherTables.map((t) => t.name)).toEqual(expect.arrayContaining([...OUTSIDE, "leagues", "side_notes"]));
    const everything = ["leagues", "teams", "players", "matches", "side_notes", ...OUTSIDE];
    const before = await rowsOf(db.url, everything);
    const change = () =>
      sql(
        db.url,
        "UPDATE players SET full_name = 'changed'",
        "DELETE FROM player_match_stats WHERE id > 4",
        "INSERT INTO player_notes VALUES (9, 101, 'later') ON CONFLICT DO NOTHING",
        "UPDATE side_notes SET note = 'changed'",
      );

    await change();
    await restoreBackup(db.url, b.dumpPath, b.manifest); // the default scope: its targets only
    expect(await rowsOf(db.url, ["players"])).toEqual({ players: before.players });
    expect((await rowsOf(db.url, ["side_notes"])).side_notes).toEqual(["(1,changed)"]);

    await change();
    const r = await restoreById(etl.config, { id: b.manifest.id, url: db.url });
    expect(r.tables).toEqual(expect.arrayContaining(["players", "public.side_notes", "public.player_match_stats"]));
    expect(await rowsOf(db.url, everything)).toEqual(before);
  });
});
