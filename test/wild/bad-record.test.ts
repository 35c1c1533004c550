import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { failure, sql } from "../fixtures/core/kit.js";
import { useWildProject, WILD_ENTRIES, wildRelease, wildSnapshot } from "../fixtures/wild/kit.js";

const { db, ws } = useWildProject();

type Rec = Record<string, unknown>;
const many = () => wildRelease(300); // 600 payments, 300 films: several batches at batchSize 100

async function refused(files: Record<string, Rec[]>, strategy: "direct" | "staged-delete" = "direct") {
  await ws.writeRelease("r", files);
  const before = await wildSnapshot(db.url);
  const etl = new AtomicEtl(ws.wildConfig({ r: { tables: WILD_ENTRIES.map((t) => ({ ...t, batchSize: 100 })), strategy } }));
  const f = await failure(etl.import({ release: "r", url: db.url, backup: false }));
  expect(await wildSnapshot(db.url)).toEqual(before);
  return f.error;
}

describe("the bad record of any constraint error, named", () => {
  it("should name the record whose value breaks a domain CHECK, not the first of its batch", async () => {
    const files = many();
    (files["film.json"] as Rec[])[234]!.release_year = 1800;
    const e = await refused(files);
    expect(e).toMatchObject({ code: "CONSTRAINT_VIOLATION", record: 234, field: "release_year", file: "releases/r/film.json" });
    expect(e.message).toContain('value for domain year violates check constraint "year_check"');
    expect(e.message).toContain("value 1800");
    expect(e.exitCode).toBe(5);
  });

  it("should name the record whose value breaks a table CHECK, with Postgres' DETAIL in the message", async () => {
    const files = many();
    (files["payment.json"] as Rec[])[345]!.amount = "-1.00";
    const e = await refused(files);
    expect(e).toMatchObject({ code: "CONSTRAINT_VIOLATION", record: 345, field: "amount" });
    expect(e.message).toContain('violates check constraint "payment_amount_check"');
    expect(e.message).toContain("(Failing row contains");
  });

  it("should name the record whose date falls outside every partition of a table without a default partition", async () => {
    const files = many();
    (files["rental.json"] as Rec[])[123]!.rental_date = "2030-01-05";
    for (const strategy of ["direct", "staged-delete"] as const) {
      const e = await refused(files, strategy);
      expect(e).toMatchObject({ code: "CONSTRAINT_VIOLATION", record: 123, field: "rental_date" });
      expect(e.message).toContain('no partition of relation "rental" found for row');
      expect(e.message).toContain("Partition key of the failing row contains (rental_date) = (2030-01-05)");
    }
  });

  it("should name the record with NULL in a NOT NULL column that no trigger fills", async () => {
    const files = many();
    (files["customer.json"] as Rec[]).push({ customer_id: 9, first_name: "Nameless", last_name: null });
    const e = await refused(files, "staged-delete");
    expect(e.code).toMatch(/VALIDATION_FAILED|CONSTRAINT_VIOLATION/);
    expect(e.record).toBe(2);
    expect(e.field).toBe("last_name");
  });

  describe("an exclusion constraint", () => {
    /** 300 one-minute bookings of one room, an hour apart; batches of 100. */
    const bookings = () =>
      Array.from({ length: 300 }, (_, i) => {
        const at = new Date(Date.UTC(2022, 0, 1) + i * 3_600_000).toISOString();
        const end = new Date(Date.UTC(2022, 0, 1) + i * 3_600_000 + 60_000).toISOString();
        return { booking_id: i, room: 1, during: `[${at},${end})` };
      });
    const book = async (files: Record<string, Rec[]>, strategy: "direct" | "staged-delete") => {
      await sql(
        db.url,
        "CREATE TABLE IF NOT EXISTS booking (booking_id integer PRIMARY KEY, room integer NOT NULL, during tstzrange NOT NULL, CONSTRAINT booking_no_overlap EXCLUDE USING gist (during WITH &&))",
      );
      await ws.writeRelease("b", files);
      const etl = new AtomicEtl(ws.wildConfig({ b: { tables: [{ table: "booking", file: "booking.json", batchSize: 100 }], strategy } }));
      const f = await failure(etl.import({ release: "b", url: db.url, backup: false }));
      expect(await sql(db.url, "SELECT count(*)::int AS n FROM booking")).toEqual([{ n: 0 }]);
      return f.error;
    };

    for (const strategy of ["direct", "staged-delete"] as const) {
      it(`should name the record that overlaps an earlier one of its own batch (SQLSTATE 23P01), with ${strategy}`, async () => {
        const rows = bookings();
        rows[150]!.during = "[2022-01-06T19:30:00.000Z,2022-01-06T20:30:00.000Z)"; // overlaps #140 (20:00–20:01)
        const e = await book({ "booking.json": rows }, strategy);
        expect(e).toMatchObject({ code: "CONSTRAINT_VIOLATION", record: 150, field: "during", file: "releases/b/booking.json" });
        expect(e.message).toContain('conflicting key value violates exclusion constraint "booking_no_overlap"');
        expect(e.message).toContain('value "[2022-01-06T19:30:00.000Z,2022-01-06T20:30:00.000Z)"');
        expect(e.message).toContain("conflicts with existing key (during)=");
        expect(e.meta).toMatchObject({ sqlstate: "23P01" });
      });

      it(`should name the record that overlaps one of an earlier batch, with ${strategy}`, async () => {
        const rows = bookings();
        rows[217]!.during = "[2022-01-01T00:30:00.000Z,2022-01-01T01:30:00.000Z)"; // overlaps #1 (01:00–01:01), two batches back
        const e = await book({ "booking.json": rows }, strategy);
        expect(e).toMatchObject({ code: "CONSTRAINT_VIOLATION", record: 217, field: "during", file: "releases/b/booking.json" });
        expect(e.message).toContain('violates exclusion constraint "booking_no_overlap"');
        expect(e.message).toContain('value "[2022-01-01T00:30:00.000Z,2022-01-01T01:30:00.000Z)"');
        expect(e.message).toContain("conflicts with existing key (during)=");
      });
    }
  });
});
