import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { STRATEGY_NAMES } from "../../src/config/schema.js";
import { createLogger } from "../../src/reporting/logger.js";
import { failure, sql } from "../fixtures/core/kit.js";
import { useWildProject, WILD_ENTRIES, wildRelease, wildSnapshot } from "../fixtures/wild/kit.js";

const { db, ws } = useWildProject();

const NEW_PAYMENT = { payment_id: 99, customer_id: 1, film_id: 100, amount: "5.00", payment_date: "2022-03-20T00:00:00Z" };
const NEW_RENTAL = { rental_id: 99, rental_date: "2022-02-20", film_id: 100, customer_id: 3 };

function logged() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    destination: { write: (l: string) => void lines.push(JSON.parse(l)) } as unknown as NodeJS.WritableStream,
  });
  return { lines, logger };
}

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
      (changed["payment.json"] as Record<string, unknown>[]).push(NEW_PAYMENT);
      (changed["rental.json"] as Record<string, unknown>[])[0]!.customer_id = 3;
      (changed["rental.json"] as Record<string, unknown>[]).push(NEW_RENTAL);
      await ws.writeRelease("r", changed);
      const third = await etl.import({ release: "r", url: db.url, backup: "tables" });
      expect(third.outcome).toBe("committed");
      const applied = (t: string) => third.tables.find((x) => x.table === t)?.applied;
      if (strategy === "merge") {
        // counted without RETURNING xmax, which a partitioned table refuses: one changed, one new, the rest as they were
        expect(applied("payment")).toMatchObject({ inserted: 1, updated: 1, unchanged: 11, deleted: 0 });
        expect(applied("rental")).toMatchObject({ inserted: 1, updated: 1, unchanged: 5, deleted: 0 });
        expect(applied("film")).toMatchObject({ inserted: 0, updated: 1, unchanged: 5 });
      } else {
        expect(applied("payment")).toMatchObject({ inserted: 13, deleted: 12 });
        expect(applied("rental")).toMatchObject({ inserted: 7, deleted: 6 });
      }
      expect(await sql(db.url, "SELECT customer_id FROM rental WHERE rental_id = 10")).toEqual([{ customer_id: 3 }]);
      expect(await sql(db.url, "SELECT rental_id FROM rental_p2022_02 WHERE rental_id = 99")).toEqual([{ rental_id: 99 }]);
      expect(await sql(db.url, "SELECT payment_id FROM payment_p2022_03 WHERE payment_id = 99")).toEqual([{ payment_id: 99 }]);
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

  it("should clear the partitioned targets with TRUNCATE under direct and keep bulk mode, their partitions not counted as outside tables", async () => {
    await ws.writeRelease("r", wildRelease(6));
    const { lines, logger } = logged();
    const report = await new AtomicEtl(ws.wildConfig({ r: { tables: WILD_ENTRIES } }), { logger }).import({
      release: "r",
      url: db.url,
      backup: false,
    });
    expect(report.outcome).toBe("committed");
    expect(report.tables.find((t) => t.table === "payment")?.strategy).toBe("direct");
    // refund, the only table with an FK into payment, is in the release: nothing outside references the targets
    expect(lines.find((l) => l.msg === "cleared targets")).toMatchObject({ strategy: "direct", method: "truncate", tables: 6 });
    // bulk mode: payment_customer_idx, film's two indexes and the six FKs among the targets (payment's, rental's, refund's into payment) dropped and rebuilt
    expect(lines.find((l) => l.msg === "rebuilt indexes and foreign keys")).toMatchObject({ indexes: 3, foreignKeys: 6 });
    // …and rebuilt on every partition
    expect(
      await sql(db.url, "SELECT tablename FROM pg_indexes WHERE tablename LIKE 'payment_%' AND indexdef LIKE '%(customer_id)%' ORDER BY 1"),
    ).toEqual(["payment_default", "payment_p2022_01", "payment_p2022_02", "payment_p2022_03"].map((tablename) => ({ tablename })));
    expect(await sql(db.url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'payment_customer_idx'::regclass")).toEqual([
      { indisvalid: true },
    ]);
    expect(
      await sql(db.url, "SELECT conname FROM pg_constraint WHERE conrelid = 'refund'::regclass AND contype = 'f' AND conparentid = 0"),
    ).toHaveLength(1);
    expect(await sql(db.url, "SELECT count(*)::int AS n FROM payment")).toEqual([{ n: 12 }]);
    expect(report.tables.find((t) => t.table === "payment")?.applied).toMatchObject({ inserted: 12, deleted: 3 });
    expect(report.tables.find((t) => t.table === "rental")?.applied).toMatchObject({ inserted: 6, deleted: 2 });
  });

  it("should clear by DELETE, without bulk mode, when a table outside the release has an FK into a partitioned target", async () => {
    await sql(db.url, "DELETE FROM refund");
    await ws.writeRelease("r", wildRelease(6));
    const { lines, logger } = logged();
    const tables = WILD_ENTRIES.filter((t) => t.table !== "refund");
    const report = await new AtomicEtl(ws.wildConfig({ r: { tables } }), { logger }).import({ release: "r", url: db.url, backup: false });
    expect(report.outcome).toBe("committed");
    expect(lines.find((l) => l.msg === "cleared targets")).toMatchObject({ method: "delete" });
    expect(lines.some((l) => l.msg === "rebuilt indexes and foreign keys")).toBe(false);
    expect(await sql(db.url, "SELECT count(*)::int AS n FROM payment")).toEqual([{ n: 12 }]);
  });

  it("should import, re-import unchanged, and import a changed subset with scoped on the partition keys, leaving rows outside the scope", async () => {
    // the base: everything, by direct; then rows outside the scope (2023, and April 2022 in a partition of its own)
    await ws.writeRelease("base", wildRelease(6));
    await new AtomicEtl(ws.wildConfig({ base: { tables: WILD_ENTRIES } })).import({ release: "base", url: db.url, backup: false });
    await sql(
      db.url,
      "INSERT INTO payment VALUES (90, 1, 100, 7.00, '2023-06-01T10:00:00Z')",
      "INSERT INTO refund VALUES (90, '2023-06-01T10:00:00Z', 90, 'outside the scope')",
      "CREATE TABLE rental_p2022_04 PARTITION OF rental FOR VALUES FROM ('2022-04-01') TO ('2022-05-01')",
      "INSERT INTO rental VALUES (90, '2022-04-02', 100, 1)",
    );
    const q1 = { from: "2022-01-01", to: "2022-04-01" };
    const q1z = { from: "2022-01-01T00:00:00Z", to: "2022-04-01T00:00:00Z" };
    const tables: { table: string; file: string; scope: Record<string, { from: string; to: string }> }[] = [
      { table: "payment", file: "payment.json", scope: { payment_date: q1z } },
      { table: "rental", file: "rental.json", scope: { rental_date: q1 } },
      { table: "refund", file: "refund.json", scope: { payment_date: q1z } },
    ];
    const full = wildRelease(6);
    const release = { "payment.json": full["payment.json"]!, "rental.json": full["rental.json"]!, "refund.json": full["refund.json"]! };
    for (const p of release["payment.json"]) p.amount = "2.49";
    await ws.writeRelease("q1", release);
    const outside = () =>
      sql(
        db.url,
        `SELECT 'payment' AS t, payment_id AS id FROM payment WHERE payment_date >= '2022-04-01'
         UNION ALL SELECT 'rental', rental_id FROM rental WHERE rental_date >= '2022-04-01'
         UNION ALL SELECT 'refund', refund_id FROM refund WHERE payment_date >= '2022-04-01' ORDER BY 1, 2`,
      );
    const expectedOutside = [
      { t: "payment", id: 90 },
      { t: "refund", id: 90 },
      { t: "rental", id: 90 },
    ];
    const { lines, logger } = logged();
    const etl = new AtomicEtl(ws.wildConfig({ q1: { strategy: "scoped", tables } }), { logger });

    const first = await etl.import({ release: "q1", url: db.url, backup: "tables" });
    expect(first.outcome).toBe("committed");
    expect(first.tables.map((t) => [t.table, t.strategy, t.applied?.inserted, t.applied?.deleted])).toEqual([
      ["payment", "scoped", 12, 12],
      ["rental", "scoped", 6, 6],
      ["refund", "scoped", 1, 1],
    ]);
    expect(await sql(db.url, "SELECT DISTINCT amount::text AS a FROM payment WHERE payment_date < '2022-04-01'")).toEqual([{ a: "2.49" }]);
    expect(await outside()).toEqual(expectedOutside);
    // rental (no FK points at it): its three Q1 partitions emptied whole; April's left alone
    expect(lines.find((l) => l.msg === "partitions replaced whole" && l.table === "rental")).toMatchObject({
      truncated: ["rental_p2022_01", "rental_p2022_02", "rental_p2022_03"],
      rows: 6,
    });
    const after = await wildSnapshot(db.url);

    expect((await etl.import({ release: "q1", url: db.url, backup: "tables" })).outcome).toBe("unchanged");
    const again = await etl.import({ release: "q1", url: db.url, backup: "tables", redeploy: true });
    expect(again.outcome).toBe("committed");
    expect(await wildSnapshot(db.url)).toEqual(after);

    const changed = structuredClone(release);
    changed["payment.json"][0]!.amount = "9.99";
    changed["payment.json"].push(NEW_PAYMENT);
    changed["rental.json"][0]!.customer_id = 3;
    changed["rental.json"].push(NEW_RENTAL);
    await ws.writeRelease("q1", changed);
    const third = await etl.import({ release: "q1", url: db.url, backup: "tables" });
    expect(third.outcome).toBe("committed");
    expect(third.tables.map((t) => [t.table, t.applied?.inserted, t.applied?.deleted])).toEqual([
      ["payment", 13, 12],
      ["rental", 7, 6],
      ["refund", 1, 1],
    ]);
    expect(await sql(db.url, "SELECT amount::text AS a FROM payment WHERE payment_id = 10")).toEqual([{ a: "9.99" }]);
    expect(await sql(db.url, "SELECT customer_id FROM rental WHERE rental_id = 10")).toEqual([{ customer_id: 3 }]);
    expect(await sql(db.url, "SELECT count(*)::int AS n FROM payment")).toEqual([{ n: 14 }]);
    expect(await outside()).toEqual(expectedOutside);
  });

  it("should raise an IDENTITY column's sequence past the loaded values after a replace, so the application's next INSERT gets max + 1", async () => {
    await sql(
      db.url,
      "CREATE TABLE ticket (ticket_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text)",
      "CREATE TABLE voucher (voucher_id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 1000) PRIMARY KEY, code text NOT NULL)",
      "INSERT INTO ticket (note) VALUES ('old'), ('old')",
      "INSERT INTO voucher (code) VALUES ('OLD')",
    );
    await ws.writeRelease("r", {
      "ticket.json": [
        { ticket_id: 1, note: "a" },
        { ticket_id: 40, note: "b" },
        { ticket_id: 3, note: "c" },
      ],
      "voucher.json": [
        { voucher_id: 5000, code: "X" },
        { voucher_id: 1001, code: "Y" },
      ],
    });
    const tables = [
      { table: "ticket", file: "ticket.json" },
      { table: "voucher", file: "voucher.json" },
    ];
    for (const strategy of ["direct", "staged-delete"] as const) {
      const report = await new AtomicEtl(ws.wildConfig({ r: { tables, strategy } })).import({
        release: "r",
        url: db.url,
        backup: false,
        redeploy: true,
      });
      expect(report.outcome).toBe("committed");
      expect(await sql(db.url, "SELECT ticket_id, note FROM ticket ORDER BY 1")).toEqual([
        { ticket_id: 1, note: "a" },
        { ticket_id: 3, note: "c" },
        { ticket_id: 40, note: "b" },
      ]);
      // the application inserts without ids; a sequence left behind would hand out 3 (ticket) and 1001 (voucher), both taken by the release
      const [ticket] = await sql<{ ticket_id: number }>(db.url, "INSERT INTO ticket (note) VALUES ('app') RETURNING ticket_id");
      expect(ticket?.ticket_id).toBe(41);
      const [voucher] = await sql<{ voucher_id: string }>(db.url, "INSERT INTO voucher (code) VALUES ('APP') RETURNING voucher_id::text");
      expect(voucher?.voucher_id).toBe("5001");
      await sql(
        db.url,
        "DELETE FROM ticket WHERE note = 'app'",
        "DELETE FROM voucher WHERE code = 'APP'",
        // back to where the application left them, so the next strategy has to raise them again
        "SELECT setval(pg_get_serial_sequence('ticket', 'ticket_id'), 2)",
        "SELECT setval(pg_get_serial_sequence('voucher', 'voucher_id'), 1000)",
      );
    }
  });
});
