import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { STRATEGY_NAMES } from "../../src/config/schema.js";
import { failure, sql } from "../fixtures/core/kit.js";
import { useWildProject, WILD_ENTRIES, wildRelease, wildSnapshot } from "../fixtures/wild/kit.js";

const { db, ws } = useWildProject();

const replaceStrategies = STRATEGY_NAMES.filter((s) => s !== "scoped" && s !== "merge" && s !== "swap");

describe("a schema in the wild: every strategy over partitioned tables, triggers, domains and enums", () => {
  for (const strategy of [...replaceStrategies, "merge"] as const) {
    it(`should import, re-import unchanged, and import a changed subset with ${strategy}`, async () => {
      const tables = strategy === "merge" ? WILD_ENTRIES.map((t) => ({ ...t, mode: "merge" as const })) : WILD_ENTRIES;
      const release = wildRelease(6);
      await ws.writeRelease("r", release);
      const etl = new AtomicEtl(ws.wildConfig({ r: { tables, strategy: strategy === "merge" ? "direct" : strategy } }));
      const first = await etl.import({ release: "r", url: db.url, backup: "tables" });
      expect(first.outcome).toBe("committed");
      const after = await wildSnapshot(db.url);
      expect(after.payment?.length).toBe(strategy === "merge" ? 12 + 3 : 12);
      expect(await sql(db.url, "SELECT count(*)::int AS n FROM payment_p2022_01")).toEqual([{ n: expect.any(Number) }]);
      // the trigger filled the tsvector the release left empty
      expect(await sql(db.url, "SELECT fulltext::text AS f FROM film WHERE film_id = 101")).toEqual([{ f: "'1':2,4 'about':3 'film':1" }]);

      // nothing changed since: a no-op; forced, a real run that leaves the same rows
      expect((await etl.import({ release: "r", url: db.url, backup: "tables" })).outcome).toBe("unchanged");
      const again = await etl.import({ release: "r", url: db.url, backup: "tables", redeploy: true });
      expect(again.outcome).toBe("committed");
      expect(await wildSnapshot(db.url)).toEqual(after);

      const changed = structuredClone(release);
      (changed["film.json"] as Record<string, unknown>[])[0]!.title = "Changed";
      (changed["payment.json"] as Record<string, unknown>[])[0]!.amount = "9.99";
      await ws.writeRelease("r", changed);
      const third = await etl.import({ release: "r", url: db.url, backup: "tables" });
      expect(third.outcome).toBe("committed");
      expect(await sql(db.url, "SELECT title, title_upper FROM film WHERE film_id = 100")).toEqual([
        { title: "Changed", title_upper: "CHANGED" },
      ]);
      expect(await sql(db.url, "SELECT amount::text AS a FROM payment WHERE payment_id = 10")).toEqual([{ a: "9.99" }]);
    });
  }

  it("should refuse swap up front, naming the partitioned tables and the views that would not follow", async () => {
    await ws.writeRelease("r", wildRelease(2));
    const before = await wildSnapshot(db.url);
    const f = await failure(
      new AtomicEtl(ws.wildConfig({ r: { tables: WILD_ENTRIES, strategy: "swap" } })).import({ release: "r", url: db.url, backup: false }),
    );
    expect(f.error.code).toBe("STRATEGY_REFUSED");
    expect(f.error.message).toContain("payment: it is partitioned");
    expect(f.error.message).toContain("rental: it is partitioned");
    expect(f.error.message).toContain("view film_list");
    expect(f.error.message).toContain("materialized view sales_by_month");
    expect(f.error.next).toContain("staged-delete");
    expect(await wildSnapshot(db.url)).toEqual(before);
  });

  it("should raise sequences a column draws from through DEFAULT nextval() without OWNED BY, so the application's next INSERT works", async () => {
    await ws.writeRelease("r", wildRelease(6));
    await new AtomicEtl(ws.wildConfig({ r: { tables: WILD_ENTRIES } })).import({ release: "r", url: db.url, backup: "tables" });
    // film ids 100–105 and payment ids 10–21 were loaded; the app inserts without ids
    const [film] = await sql<{ film_id: number }>(db.url, "INSERT INTO film (title, language_id) VALUES ('App film', 1) RETURNING film_id");
    expect(film?.film_id).toBe(106);
    const [pay] = await sql<{ payment_id: number }>(
      db.url,
      "INSERT INTO payment (customer_id, film_id, amount, payment_date) VALUES (1, 100, 1, '2022-01-20T00:00:00Z') RETURNING payment_id",
    );
    expect(pay?.payment_id).toBe(22);
  });
});
