import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { failure, sql } from "../fixtures/core/kit.js";
import { useWildProject, WILD_ENTRIES, wildRelease, wildSnapshot } from "../fixtures/wild/kit.js";

const { db, ws } = useWildProject();

type Rec = Record<string, unknown>;
const STRATEGIES = ["direct", "staged-truncate", "staged-delete"] as const;

/** The release with no `fulltext` key in any film record: not "", not null, absent. */
function withoutFulltext(films: number): Record<string, Rec[]> {
  const release = wildRelease(films);
  for (const f of release["film.json"] as Rec[]) delete f.fulltext;
  return release;
}

/** film's BEFORE INSERT trigger, as schema.sql has it, except that it leaves fulltext NULL for the film titled `title`. */
const triggerLeavesNullFor = (title: string) => `CREATE OR REPLACE FUNCTION film_fulltext() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.fulltext = CASE WHEN NEW.title = '${title}' THEN NULL
                      ELSE to_tsvector('simple', coalesce(NEW.title, '') || ' ' || coalesce(NEW.description, '')) END;
  RETURN NEW;
END $$`;

describe("a NOT NULL column a BEFORE INSERT trigger fills", () => {
  for (const strategy of STRATEGIES) {
    it(`should accept records that leave it out entirely, and let the trigger fill it, with ${strategy}`, async () => {
      const release = withoutFulltext(6);
      expect((release["film.json"] as Rec[]).some((f) => "fulltext" in f)).toBe(false);
      await ws.writeRelease("r", release);
      const report = await new AtomicEtl(ws.wildConfig({ r: { tables: WILD_ENTRIES, strategy } })).import({
        release: "r",
        url: db.url,
        backup: false,
      });
      expect(report.outcome).toBe("committed");
      expect(report.tables.find((t) => t.table === "film")?.rowsLoaded).toBe(6);
      expect(await sql(db.url, "SELECT film_id, fulltext::text AS f FROM film WHERE film_id IN (100, 101) ORDER BY 1")).toEqual([
        { film_id: 100, f: "'0':2 'film':1" },
        { film_id: 101, f: "'1':2,4 'about':3 'film':1" },
      ]);
      expect(await sql(db.url, "SELECT count(*)::int AS n FROM film WHERE fulltext IS NULL OR fulltext = ''::tsvector")).toEqual([
        { n: 0 },
      ]);
    });

    it(`should name the record the trigger leaves NULL, which only the database can catch, with ${strategy}`, async () => {
      await sql(db.url, triggerLeavesNullFor("Film 234"));
      await ws.writeRelease("r", withoutFulltext(300));
      const before = await wildSnapshot(db.url);
      const tables = WILD_ENTRIES.map((t) => ({ ...t, batchSize: 100 }));
      const f = await failure(
        new AtomicEtl(ws.wildConfig({ r: { tables, strategy } })).import({ release: "r", url: db.url, backup: false }),
      );
      expect(f.error).toMatchObject({
        code: "CONSTRAINT_VIOLATION",
        file: "releases/r/film.json",
        record: 234,
        field: "fulltext",
        table: "film",
      });
      expect(f.error.message).toContain('null value in column "fulltext" of relation "film" violates not-null constraint');
      expect(f.error.meta).toMatchObject({ sqlstate: "23502" });
      expect(await wildSnapshot(db.url)).toEqual(before);
    });

    it(`should name the record that breaks a CHECK when the records leave the trigger's column out, with ${strategy}`, async () => {
      const release = withoutFulltext(300);
      (release["film.json"] as Rec[])[234]!.length = 0;
      await ws.writeRelease("r", release);
      const before = await wildSnapshot(db.url);
      const tables = WILD_ENTRIES.map((t) => ({ ...t, batchSize: 100 }));
      const f = await failure(
        new AtomicEtl(ws.wildConfig({ r: { tables, strategy } })).import({ release: "r", url: db.url, backup: false }),
      );
      expect(f.error).toMatchObject({ code: "CONSTRAINT_VIOLATION", file: "releases/r/film.json", record: 234, field: "length" });
      expect(f.error.message).toContain('violates check constraint "film_length_check"');
      expect(f.error.message).toContain("value 0");
      expect(await wildSnapshot(db.url)).toEqual(before);
    });
  }

  it("should still name the record when the table has a replica-only trigger that would refuse every row", async () => {
    // ENABLE REPLICA: it never fires for the run's session; copied onto the probe, it would refuse every attempt
    await sql(
      db.url,
      "CREATE FUNCTION refuse_all() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'replica only'; END $$",
      "CREATE TRIGGER film_replica BEFORE INSERT ON film FOR EACH ROW EXECUTE FUNCTION refuse_all()",
      "ALTER TABLE film ENABLE REPLICA TRIGGER film_replica",
    );
    const release = withoutFulltext(300);
    (release["film.json"] as Rec[])[234]!.length = 0;
    await ws.writeRelease("r", release);
    const tables = WILD_ENTRIES.map((t) => ({ ...t, batchSize: 100 }));
    const f = await failure(
      new AtomicEtl(ws.wildConfig({ r: { tables, strategy: "staged-delete" } })).import({ release: "r", url: db.url, backup: false }),
    );
    expect(f.error).toMatchObject({ code: "CONSTRAINT_VIOLATION", record: 234, field: "length" });
  });
});
