import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { nextRelease, sql, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

describe("loadTable pipelining", () => {
  it("should have batch n's INSERT running on the server while batch n+1 is validated", async () => {
    // The server notes when each INSERT statement starts; validating the first record of
    // the second batch holds the thread for 500 ms. Were the INSERT of the first batch
    // still waiting for the thread, it would start only after that.
    await sql(
      db.url,
      `CREATE TABLE stmt_log (at timestamptz NOT NULL)`,
      `CREATE FUNCTION log_stmt() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO stmt_log VALUES (clock_timestamp()); RETURN NULL; END $$`,
      `CREATE TRIGGER log_stmt BEFORE INSERT ON player_match_stats FOR EACH STATEMENT EXECUTE FUNCTION log_stmt()`,
    );
    await ws.writeRelease("r", nextRelease());
    let secondBatchValidatedAt = 0;
    const slowOnId3 = z.looseObject({}).superRefine((r) => {
      if ((r as { id?: number }).id !== 3) return;
      const until = Date.now() + 500;
      while (Date.now() < until);
      secondBatchValidatedAt = Date.now();
    });
    const tables = STANDARD_TABLES.map((t) => (t.model === "PlayerMatchStat" ? { ...t, batchSize: 2, schema: slowOnId3 } : t));

    const report = await new AtomicEtl(ws.config({ r: { tables } })).import({ release: "r", url: db.url, backup: false });

    expect(report.outcome).toBe("committed");
    expect(report.tables.find((t) => t.table === "player_match_stats")?.batches).toBe(4);
    const [first] = await sql<{ ms: number }>(db.url, `SELECT (extract(epoch FROM min(at)) * 1000)::float8 AS ms FROM stmt_log`);
    expect(secondBatchValidatedAt).toBeGreaterThan(0);
    expect(first?.ms).toBeLessThan(secondBatchValidatedAt - 250);
  });
});
