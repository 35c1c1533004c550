import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/runner/atomic-etl.js";
import { type FreshDatabase, freshDatabase } from "../support/postgres.js";
import { failure, nextRelease, seed, snapshot, sql, STANDARD_TABLES, workspace, type Workspace, workTables } from "./fixtures.js";

let db: FreshDatabase;
let ws: Workspace;

beforeEach(async () => {
  db = await freshDatabase();
  ws = await workspace();
  await seed(db.url);
  await ws.writeRelease("r", nextRelease());
});

afterEach(async () => {
  await db.drop();
  await ws.cleanup();
});

/** Names of every index, constraint and sequence in `public`, with what they belong to. */
async function schemaObjects(url: string): Promise<string[]> {
  const rows = await sql<{ o: string }>(
    url,
    `SELECT 'index ' || indexname || ' on ' || tablename || ': ' || regexp_replace(indexdef, '^.* USING ', '') AS o FROM pg_indexes WHERE schemaname = 'public'
     UNION ALL SELECT 'constraint ' || conname || ' on ' || conrelid::regclass::text || ': ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
     UNION ALL SELECT 'table ' || relname || ' options ' || COALESCE(array_to_string(reloptions, ','), '-') || ' replica identity ' || relreplident::text FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
     UNION ALL SELECT 'column ' || attrelid::regclass::text || '.' || attname || ' statistics ' || attstattarget || ' options ' || COALESCE(array_to_string(attoptions, ','), '-')
       FROM pg_attribute WHERE attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r') AND attnum > 0 AND NOT attisdropped
     UNION ALL SELECT 'statistics ' || stxname || ' on ' || stxrelid::regclass::text || ': ' || pg_get_statisticsobjdef_columns(oid) FROM pg_statistic_ext WHERE stxnamespace = 'public'::regnamespace
     UNION ALL SELECT 'sequence ' || c.relname || ' owned by ' || COALESCE(d.refobjid::regclass::text || '.' || a.attname, '-')
       FROM pg_class c LEFT JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
       WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace
     ORDER BY 1`,
  );
  return rows.map((r) => r.o);
}

const ROLE = `swap_reader_${process.pid}`;

describe("swap", () => {
  it("should replace every table and keep its indexes, constraints, FKs, sequences, statistics, storage and column settings, replica identity, grants and comment", async () => {
    await sql(
      db.url,
      `DROP ROLE IF EXISTS ${ROLE}`,
      `CREATE ROLE ${ROLE}`,
      `GRANT SELECT ON players TO ${ROLE}`,
      `GRANT UPDATE (market_value) ON players TO ${ROLE}`,
      `COMMENT ON TABLE players IS 'squad members, it''s "live"'`,
      `ALTER TABLE players SET (fillfactor = 70, autovacuum_enabled = false)`,
      `ALTER TABLE teams REPLICA IDENTITY FULL`,
      `ALTER TABLE matches REPLICA IDENTITY USING INDEX matches_pkey`,
      `ALTER TABLE matches ALTER COLUMN status SET STATISTICS 500`,
      `ALTER TABLE matches ALTER COLUMN home_team_id SET (n_distinct = -0.5)`,
      `CREATE STATISTICS player_match_stats_player_match ON player_id, match_id FROM player_match_stats`,
    );
    try {
      const before = await schemaObjects(db.url);
      const [seq] = await sql<{ v: string }>(db.url, `SELECT last_value::text AS v FROM player_match_stats_id_seq`);
      const etl = new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, strategy: "swap" } }));

      const report = await etl.import({ release: "r", url: db.url, backup: false });

      expect(report.outcome).toBe("committed");
      expect((await snapshot(db.url)).leagues).toHaveLength(2);
      expect(await schemaObjects(db.url)).toEqual(before);
      expect(
        await sql(
          db.url,
          `SELECT has_table_privilege('${ROLE}', 'players', 'SELECT') AS s, has_column_privilege('${ROLE}', 'players', 'market_value', 'UPDATE') AS u, obj_description('players'::regclass, 'pg_class') AS c`,
        ),
      ).toEqual([{ s: true, u: true, c: `squad members, it's "live"` }]);
      // the serial sequence went on from where it was (and past the loaded ids)
      const [next] = await sql<{ n: string }>(db.url, `SELECT nextval('player_match_stats_id_seq')::text AS n`);
      expect(Number(next?.n)).toBeGreaterThan(Math.max(8, Number(seq?.v)));
      // FKs among the swapped tables hold on the new tables
      await expect(
        sql(db.url, `INSERT INTO player_match_stats (player_id, match_id, minutes_played) VALUES (999999, 1000, 1)`),
      ).rejects.toMatchObject({ code: "23503" });
      await expect(sql(db.url, `DELETE FROM leagues WHERE id = 1`)).rejects.toMatchObject({ code: "23503" });
      expect(await workTables(db.url)).toEqual([]);
    } finally {
      await sql(db.url, `DROP OWNED BY ${ROLE}`, `DROP ROLE ${ROLE}`);
    }
  });

  it("should continue an identity column's sequence under its own name", async () => {
    await sql(
      db.url,
      `CREATE TABLE gadgets (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text NOT NULL)`,
      `INSERT INTO gadgets (name) SELECT 'old ' || g FROM generate_series(1, 40) g`,
    );
    await ws.writeRelease("g", { "gadgets.json": [{ id: 5, name: "five" }, { name: "drawn" }, { name: "drawn too" }] });
    const etl = new AtomicEtl(ws.config({ g: { tables: [{ table: "gadgets", file: "gadgets.json" }], strategy: "swap" } }));

    await etl.import({ release: "g", url: db.url, backup: false });

    const rows = await sql<{ id: number; name: string }>(db.url, `SELECT id, name FROM gadgets ORDER BY id`);
    expect(rows.map((r) => r.name)).toEqual(["five", "drawn", "drawn too"]);
    expect(rows.slice(1).every((r) => r.id > 40)).toBe(true);
    expect(await sql(db.url, `SELECT pg_get_serial_sequence('gadgets', 'id') AS s`)).toEqual([{ s: "public.gadgets_id_seq" }]);
    const [next] = await sql<{ n: number }>(db.url, `INSERT INTO gadgets (name) VALUES ('new') RETURNING id AS n`);
    expect(next?.n).toBeGreaterThan(Math.max(...rows.map((r) => r.id)));
    expect(await workTables(db.url)).toEqual([]);
  });

  it("should refuse up front, naming each dependent, when a view, a trigger and an FK from another table depend on a target; nothing changes", async () => {
    await sql(
      db.url,
      `CREATE VIEW player_names AS SELECT id, full_name FROM players`,
      `CREATE TABLE scouting_notes (id int PRIMARY KEY, player_id int NOT NULL REFERENCES players (id), note text)`,
      `INSERT INTO scouting_notes VALUES (1, 700, 'keeps clean sheets')`,
      `CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$`,
      `CREATE TRIGGER matches_touch BEFORE UPDATE ON matches FOR EACH ROW EXECUTE FUNCTION touch()`,
    );
    const old = await snapshot(db.url);
    const etl = new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, strategy: "swap" } }));

    const f = await failure(etl.import({ release: "r", url: db.url, backup: false }));

    expect(f.error.code).toBe("STRATEGY_REFUSED");
    expect(f.error.step).toBe("clear");
    expect(f.error.data).toBe("rolled back; database unchanged");
    expect(f.error.meta.dependents).toEqual([
      "trigger matches_touch on table matches (depends on matches)",
      "constraint scouting_notes_player_id_fkey on table scouting_notes (depends on players)",
      "view player_names (depends on players)",
    ]);
    expect(f.error.next).toContain("staged-delete");
    expect(f.report.tables).toEqual([]);
    expect(await snapshot(db.url)).toEqual(old);
    // the dependents are intact: the view reads the old rows, the FK still enforces
    expect(await sql(db.url, `SELECT full_name FROM player_names ORDER BY id`)).toEqual([
      { full_name: "Old Keeper" },
      { full_name: "Old Striker" },
    ]);
    await expect(sql(db.url, `INSERT INTO scouting_notes VALUES (2, 999, 'ghost')`)).rejects.toMatchObject({ code: "23503" });
    expect(await workTables(db.url)).toEqual([]);
  });

  it("should refuse a table with row level security or policies", async () => {
    await sql(db.url, `ALTER TABLE leagues ENABLE ROW LEVEL SECURITY`, `CREATE POLICY leagues_all ON leagues USING (true)`);
    const etl = new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, strategy: "swap" } }));

    const f = await failure(etl.import({ release: "r", url: db.url, backup: false }));

    expect(f.error.code).toBe("STRATEGY_REFUSED");
    expect(f.error.meta.dependents).toEqual([
      "leagues: row level security is enabled on it",
      "policy leagues_all on table leagues (depends on leagues)",
    ]);
  });
});
