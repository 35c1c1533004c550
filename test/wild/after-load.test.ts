import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { failure, sql } from "../fixtures/core/kit.js";
import { useWildProject, WILD_ENTRIES, wildRelease, wildSnapshot } from "../fixtures/wild/kit.js";

const { db, ws } = useWildProject();

const months = (url: string) =>
  sql(url, "SELECT to_char(month, 'YYYY-MM') AS m, total::text AS t, payments::int AS n FROM sales_by_month ORDER BY 1");

describe("after-load SQL in the transaction", () => {
  it("should refresh a materialized view in the same transaction, so it is never stale after COMMIT", async () => {
    await ws.writeRelease("r", wildRelease(3));
    const before = await months(db.url);
    const etl = new AtomicEtl(ws.wildConfig({ r: { tables: WILD_ENTRIES, refresh: ["sales_by_month"] } }));
    await etl.import({ release: "r", url: db.url, backup: false });
    const fresh = await sql(
      db.url,
      "SELECT to_char(date_trunc('month', payment_date), 'YYYY-MM') AS m, sum(amount)::text AS t, count(*)::int AS n FROM payment GROUP BY 1 ORDER BY 1",
    );
    expect(await months(db.url)).toEqual(fresh);
    expect(fresh).not.toEqual(before);
  });

  it("should refresh CONCURRENTLY when the view has a unique index, and run afterLoad statements in order", async () => {
    await sql(db.url, "CREATE UNIQUE INDEX ON sales_by_month (month)", "CREATE TABLE load_log (n int, films int)");
    await ws.writeRelease("r", wildRelease(3));
    const lines: { msg?: string; concurrently?: boolean }[] = [];
    const { createLogger } = await import("../../src/reporting/logger.js");
    const logger = createLogger({
      destination: { write: (l: string) => void lines.push(JSON.parse(l)) } as unknown as NodeJS.WritableStream,
    });
    const etl = new AtomicEtl(
      ws.wildConfig({
        r: {
          tables: WILD_ENTRIES,
          refresh: ["sales_by_month"],
          afterLoad: ["INSERT INTO load_log SELECT 1, count(*) FROM film", "INSERT INTO load_log SELECT 2, count(*) FROM film"],
        },
      }),
      { logger },
    );
    await etl.import({ release: "r", url: db.url, backup: false });
    expect(lines.find((l) => l.msg === "refreshed")?.concurrently).toBe(true);
    expect(await sql(db.url, "SELECT n, films FROM load_log ORDER BY n")).toEqual([
      { n: 1, films: 3 },
      { n: 2, films: 3 },
    ]);
  });

  it("should roll the refresh and the afterLoad writes back with the release when a check fails", async () => {
    await sql(db.url, "CREATE TABLE load_log (n int)");
    await ws.writeRelease("r", wildRelease(3));
    const [views, rows] = [await months(db.url), await wildSnapshot(db.url)];
    const etl = new AtomicEtl(
      ws.wildConfig({
        r: {
          tables: WILD_ENTRIES,
          refresh: ["sales_by_month"],
          afterLoad: ["INSERT INTO load_log VALUES (1)"],
          checks: [{ name: "no", sql: "SELECT 1" }],
        },
      }),
    );
    const f = await failure(etl.import({ release: "r", url: db.url, backup: false }));
    expect(f.error.code).toBe("CHECK_FAILED");
    expect(await months(db.url)).toEqual(views);
    expect(await wildSnapshot(db.url)).toEqual(rows);
    expect(await sql(db.url, "SELECT count(*)::int AS n FROM load_log")).toEqual([{ n: 0 }]);
  });

  it("should refuse to refresh something that is not a materialized view, naming it", async () => {
    await ws.writeRelease("r", wildRelease(2));
    const f = await failure(
      new AtomicEtl(ws.wildConfig({ r: { tables: WILD_ENTRIES, refresh: ["film_list"] } })).import({
        release: "r",
        url: db.url,
        backup: false,
      }),
    );
    expect(f.error.code).toBe("CONFIG_INVALID");
    expect(f.error.message).toBe("refresh names film_list, which is not a materialized view in schema public");
  });
});
