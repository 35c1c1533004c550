import type pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import type { StrategyName } from "../../src/config/schema.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { ALL_TABLES, openReader, readAll, snapshot, STANDARD_TABLES, useTestProject, workTables } from "./fixtures.js";

const { db, ws } = useTestProject({ release: true });
const readers: pg.Client[] = [];

// runs before the project's own cleanup drops the database
afterEach(async () => {
  await Promise.all(readers.splice(0).map((c) => c.end().catch(() => undefined)));
});

type Rows = Record<string, string[]>;

/** A reader on its own connection that may have to wait (its answer is collected after the run). */
function laterProbe(url: string): Promise<Rows> {
  return (async () => {
    const c = await openReader(url);
    try {
      return await readAll(c, ALL_TABLES);
    } finally {
      await c.end().catch(() => undefined);
    }
  })();
}

const MAY_BLOCK_DURING_LOAD: ReadonlySet<StrategyName> = new Set(["direct"]);
const MAY_BLOCK_AT_COMMIT: ReadonlySet<StrategyName> = new Set(["direct", "staged-truncate", "swap"]);

describe("replace strategies (what readers on other connections see)", () => {
  for (const strategy of ["direct", "staged-truncate", "staged-delete", "swap"] as const) {
    it(`should show readers exactly the old rows or exactly the new rows of every table, never a partial or mixed state, with ${strategy}`, async () => {
      const old = await snapshot(db.url);
      const reader = await openReader(db.url, { statementTimeoutMs: 5_000 });
      readers.push(reader);
      const duringLoad: Rows[] = [];
      const later: Promise<Rows>[] = [];
      const etl = new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } }));

      await etl.import({
        release: "r",
        url: db.url,
        backup: false,
        batchSize: 2,
        strategy,
        hooks: {
          afterBatch: async ({ batch }) => {
            // the run is paused here, mid-load, its transaction open
            if (batch !== 1) return;
            if (MAY_BLOCK_DURING_LOAD.has(strategy)) later.push(laterProbe(db.url));
            else duringLoad.push(await readAll(reader, ALL_TABLES));
          },
          beforeCommit: async () => {
            // the final phase is done; COMMIT comes next
            if (MAY_BLOCK_AT_COMMIT.has(strategy)) later.push(laterProbe(db.url));
            else duringLoad.push(await readAll(reader, ALL_TABLES));
          },
        },
      });

      const fresh = await snapshot(db.url);
      expect(fresh).not.toEqual(old);
      for (const rows of duringLoad) expect(rows).toEqual(old);
      for (const rows of await Promise.all(later)) expect([old, fresh]).toContainEqual(rows);
      expect(await readAll(reader, ALL_TABLES)).toEqual(fresh);
      expect(await workTables(db.url)).toEqual([]);
    });
  }

  it("should answer a reader at once with the old rows during the load and after the final phase with staged-delete", async () => {
    const old = await snapshot(db.url);
    // a reader that would rather fail than wait
    const reader = await openReader(db.url, { statementTimeoutMs: 1_000 });
    readers.push(reader);
    const answers: { where: string; rows: Rows }[] = [];
    const etl = new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, strategy: "staged-delete" } }));

    const report = await etl.import({
      release: "r",
      url: db.url,
      backup: false,
      batchSize: 2,
      hooks: {
        afterBatch: async ({ table, batch }) => {
          answers.push({ where: `${table}#${batch}`, rows: await readAll(reader, ALL_TABLES) });
        },
        beforeCommit: async () => {
          answers.push({ where: "after the final phase", rows: await readAll(reader, ALL_TABLES) });
        },
      },
    });

    expect(report.strategy).toBe("staged-delete");
    expect(answers.length).toBeGreaterThan(ALL_TABLES.length);
    for (const a of answers) expect({ where: a.where, rows: a.rows }).toEqual({ where: a.where, rows: old });
    expect(await readAll(reader, ALL_TABLES)).toEqual(await snapshot(db.url));
  });
});
