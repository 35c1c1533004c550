import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { createLogger } from "../../src/reporting/logger.js";
import { sql } from "../fixtures/core/kit.js";
import { useWildProject } from "../fixtures/wild/kit.js";

const { db, ws } = useWildProject();

const FEB = { rental_date: { from: "2022-02-01", to: "2022-03-01" } };
const febRentals = [
  { rental_id: 20, rental_date: "2022-02-03", film_id: 1, customer_id: 1 },
  { rental_id: 21, rental_date: "2022-02-28", film_id: 2, customer_id: 2 },
];

function logged() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    destination: { write: (l: string) => void lines.push(JSON.parse(l)) } as unknown as NodeJS.WritableStream,
  });
  return { lines, logger };
}

describe("scoped on a partition key: partition-wise replace", () => {
  it("should TRUNCATE the partitions that hold only the scope's rows and leave every other partition alone", async () => {
    await sql(db.url, "INSERT INTO rental VALUES (5, '2022-02-10', 1, 1), (6, '2022-02-11', 2, 2)");
    const others = await sql(
      db.url,
      "SELECT rental_id FROM rental WHERE rental_date < '2022-02-01' OR rental_date >= '2022-03-01' ORDER BY 1",
    );
    await ws.writeRelease("feb", { "rental.json": febRentals });
    const { lines, logger } = logged();
    const etl = new AtomicEtl(
      ws.wildConfig({ feb: { strategy: "scoped", scope: FEB, tables: [{ table: "rental", file: "rental.json" }] } }),
      { logger },
    );
    const report = await etl.import({ release: "feb", url: db.url, backup: false });
    expect(report.tables[0]?.applied).toMatchObject({ inserted: 2, deleted: 2 });
    expect(lines.find((l) => l.msg === "partitions replaced whole")).toMatchObject({ truncated: ["rental_p2022_02"], rows: 2 });
    expect(await sql(db.url, "SELECT rental_id FROM rental_p2022_02 ORDER BY 1")).toEqual([{ rental_id: 20 }, { rental_id: 21 }]);
    expect(
      await sql(db.url, "SELECT rental_id FROM rental WHERE rental_date < '2022-02-01' OR rental_date >= '2022-03-01' ORDER BY 1"),
    ).toEqual(others);
  });

  it("should DELETE, not TRUNCATE, a partition that also holds rows outside the scope", async () => {
    await sql(db.url, "INSERT INTO rental VALUES (5, '2022-02-10', 1, 1), (6, '2022-02-20', 2, 2)");
    await ws.writeRelease("half", { "rental.json": febRentals.slice(0, 1) });
    const { lines, logger } = logged();
    const half = { rental_date: { from: "2022-02-01", to: "2022-02-15" } };
    const etl = new AtomicEtl(
      ws.wildConfig({ half: { strategy: "scoped", scope: half, tables: [{ table: "rental", file: "rental.json" }] } }),
      { logger },
    );
    const report = await etl.import({ release: "half", url: db.url, backup: false });
    expect(report.tables[0]?.applied).toMatchObject({ inserted: 1, deleted: 1 });
    expect(lines.find((l) => l.msg === "partitions replaced whole")).toMatchObject({ truncated: [], rows: 0 });
    expect(await sql(db.url, "SELECT rental_id FROM rental_p2022_02 ORDER BY 1")).toEqual([{ rental_id: 6 }, { rental_id: 20 }]);
  });

  it("should always DELETE with partitionWise: false", async () => {
    await ws.writeRelease("feb", { "rental.json": febRentals });
    const { lines, logger } = logged();
    const etl = new AtomicEtl(
      ws.wildConfig({ feb: { strategy: "scoped", scope: FEB, tables: [{ table: "rental", file: "rental.json", partitionWise: false }] } }),
      { logger },
    );
    await etl.import({ release: "feb", url: db.url, backup: false });
    expect(lines.some((l) => l.msg === "partitions replaced whole")).toBe(false);
    expect(await sql(db.url, "SELECT rental_id FROM rental_p2022_02 ORDER BY 1")).toEqual([{ rental_id: 20 }, { rental_id: 21 }]);
  });

  it("should refuse rows outside a range scope", async () => {
    await ws.writeRelease("feb", {
      "rental.json": [...febRentals, { rental_id: 22, rental_date: "2022-03-01", film_id: 1, customer_id: 1 }],
    });
    const etl = new AtomicEtl(
      ws.wildConfig({ feb: { strategy: "scoped", scope: FEB, tables: [{ table: "rental", file: "rental.json" }] } }),
    );
    const e = await etl
      .import({ release: "feb", url: db.url, backup: false })
      .catch((x: { error: { code: string; message: string } }) => x.error);
    expect(e).toMatchObject({ code: "VALIDATION_FAILED" });
    expect((e as { message: string }).message).toContain("rental_date");
  });
});
