import type pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import type { StrategyName } from "../../src/config/schema.js";
import type { Blocker } from "../../src/db/lock-budget.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { failure, openReader, QUICK_LOCKS, snapshot, STANDARD_TABLES, useTestProject, workTables } from "./fixtures.js";

const { db, ws } = useTestProject({ release: true });
const clients: pg.Client[] = [];

// runs before the project's own cleanup drops the database
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
});

/** A session that opens a transaction and holds whatever `statement` locks until it ends. */
async function holder(statement: string): Promise<{ pid: number; release: () => Promise<void> }> {
  const c = await openReader(db.url, { name: "test-lock-holder" });
  clients.push(c);
  const r = await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  await c.query("BEGIN");
  await c.query(statement);
  return { pid: Number(r.rows[0]?.pid), release: async () => void (await c.query("ROLLBACK")) };
}

/** Reads `leagues` over and over (giving up after 5 s per query) until stopped. */
function readLoop(): { stop: () => Promise<{ answered: number; failed: unknown[] }> } {
  let running = true;
  let answered = 0;
  const failed: unknown[] = [];
  const done = (async () => {
    const c = await openReader(db.url, { statementTimeoutMs: 5_000, name: "test-reader-loop" });
    clients.push(c);
    while (running) {
      try {
        await c.query("SELECT count(*) FROM leagues");
        answered++;
      } catch (e) {
        failed.push(e);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return { answered, failed };
    },
  };
}

const config = (strategy: StrategyName) =>
  ws.config({ r: { tables: STANDARD_TABLES, strategy } }, { environments: { local: QUICK_LOCKS } });

describe("final phase lock budget", () => {
  const cases: { strategy: StrategyName; lock: string; mode: string }[] = [
    { strategy: "staged-truncate", lock: "LOCK TABLE leagues IN ACCESS SHARE MODE", mode: "AccessShareLock" },
    { strategy: "swap", lock: "LOCK TABLE leagues IN ACCESS SHARE MODE", mode: "AccessShareLock" },
    { strategy: "staged-delete", lock: "SELECT * FROM leagues WHERE id = 7 FOR SHARE", mode: "RowShareLock" },
  ];
  for (const c of cases) {
    it(`should fail with LOCK_TIMEOUT naming the blocking session after its retries, change nothing and keep readers moving, with ${c.strategy} behind "${c.lock}"`, async () => {
      const old = await snapshot(db.url);
      const blocker = await holder(c.lock);
      const readersLoop = readLoop();

      const f = await failure(new AtomicEtl(config(c.strategy)).import({ release: "r", url: db.url, backup: false }));
      const readers = await readersLoop.stop();
      await blocker.release();

      expect(f.error.code).toBe("LOCK_TIMEOUT");
      expect(f.error.step).toBe("apply");
      expect(f.error.data).toBe("rolled back; database unchanged");
      expect(f.error.meta).toMatchObject({ attempts: QUICK_LOCKS.finalLockRetries + 1, lockTimeoutMs: QUICK_LOCKS.finalLockTimeoutMs });
      const blockers = f.error.meta.blockers as Blocker[];
      expect(blockers).toContainEqual(
        expect.objectContaining({ pid: blocker.pid, locks: [`${c.mode} on leagues`], state: "idle in transaction", query: c.lock }),
      );
      expect(f.error.message).toContain(`pid ${blocker.pid}`);
      expect(f.error.next).toContain(String(blocker.pid));
      expect(await snapshot(db.url)).toEqual(old);
      // the blocker held its lock through the whole run, yet no reader was left waiting behind the run
      expect(readers.failed).toEqual([]);
      expect(readers.answered).toBeGreaterThan(0);
      expect(await workTables(db.url)).toEqual([]);
    });
  }

  it("should retry after a lock timeout within the same transaction and commit once the lock is free", async () => {
    const blocker = await holder("LOCK TABLE players IN ACCESS SHARE MODE");
    const watcher = await openReader(db.url, { name: "test-watcher" });
    clients.push(watcher);
    // release the blocker only after the run's first attempt has queued for its lock and given up
    const released = (async () => {
      let sawWaiting = false;
      for (;;) {
        const r = await watcher.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'players'::regclass AND NOT granted AND mode = 'AccessExclusiveLock'`,
        );
        const waiting = Number(r.rows[0]?.n) > 0;
        if (sawWaiting && !waiting) break;
        sawWaiting ||= waiting;
        await new Promise((res) => setTimeout(res, 5));
      }
      await blocker.release();
    })();
    const etl = new AtomicEtl(
      ws.config(
        { r: { tables: STANDARD_TABLES, strategy: "staged-truncate" } },
        { environments: { local: { finalLockTimeoutMs: 300, finalLockRetries: 5, finalLockBackoffMs: 200 } } },
      ),
    );

    const report = await etl.import({ release: "r", url: db.url, backup: false });
    await released;

    expect(report.outcome).toBe("committed");
    expect((await snapshot(db.url)).players).toHaveLength(6);
    expect(await workTables(db.url)).toEqual([]);
  });
});
