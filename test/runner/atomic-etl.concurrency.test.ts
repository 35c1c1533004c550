import os from "node:os";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { ALL_TABLES, failure, nextRelease, snapshot, sql, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();
let reader: pg.Client | null = null;

afterEach(async () => {
  await reader?.end().catch(() => undefined);
  reader = null;
});

type Probe = { table: string; kind: "rows"; rows: string[] } | { table: string; kind: "waited" };

/** A plain `pg` reader that gives up waiting for a lock after 50 ms (a wait is an allowed answer). */
async function openReader(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, application_name: "test-reader" });
  c.on("error", () => undefined);
  await c.connect();
  await c.query("SET lock_timeout = '50ms'");
  return c;
}

async function probe(c: pg.Client, table: string): Promise<Probe> {
  try {
    const r = await c.query<{ r: string }>(`SELECT t::text AS r FROM "${table}" AS t ORDER BY 1`);
    return { table, kind: "rows", rows: r.rows.map((x) => x.r) };
  } catch (e) {
    if ((e as { code?: string }).code === "55P03") return { table, kind: "waited" };
    throw e;
  }
}

function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

describe("AtomicEtl.import (what other connections see)", () => {
  it("should make a reader wait or see the old rows while loading, and see only the new rows after COMMIT", async () => {
    await ws.writeRelease("r", nextRelease());
    const old = await snapshot(db.url);
    reader = await openReader(db.url);
    const r = reader;
    const probes: Probe[] = [];
    let blocked: Promise<string[]> | null = null;
    const etl = new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } }));

    const report = await etl.import({
      release: "r",
      url: db.url,
      backup: false,
      batchSize: 2,
      hooks: {
        afterBatch: async ({ table, batch }) => {
          // the run is paused here, mid-load, with its transaction open
          for (const t of ALL_TABLES) probes.push(await probe(r, t));
          if (table === "player_match_stats" && batch === 4) {
            // a reader with no lock_timeout queues behind the load and is answered after COMMIT
            const waiter = new pg.Client({ connectionString: db.url });
            waiter.on("error", () => undefined);
            await waiter.connect();
            blocked = waiter
              .query<{ r: string }>(`SELECT t::text AS r FROM leagues AS t ORDER BY 1`)
              .then(
                (x) => x.rows.map((y) => y.r),
                () => ["<error>"],
              )
              .finally(() => waiter.end());
          }
        },
      },
    });
    expect(report.outcome).toBe("committed");

    expect(probes.length).toBe(ALL_TABLES.length * (1 + 2 + 3 + 2 + 4));
    for (const p of probes) {
      // never empty, never a mix: either the complete old table or a wait
      if (p.kind === "rows") expect(p.rows).toEqual(old[p.table]);
    }
    const after = await snapshot(db.url);
    for (const t of ALL_TABLES) {
      const seen = await probe(r, t);
      expect(seen).toEqual({ table: t, kind: "rows", rows: after[t] });
      expect(seen.kind === "rows" && seen.rows.length).toBeGreaterThan(0);
      expect(after[t]).not.toEqual(old[t]);
    }
    expect(await (blocked as unknown as Promise<string[]>)).toEqual(after.leagues);
    expect(after.leagues?.map((l) => l.split(",")[0])).toEqual(["(1", "(2"]);
  });

  it("should let readers keep seeing the old rows (no wait) when the targets are cleared row by row", async () => {
    // leagues alone: the seeded teams, outside the release, reference it, so it is cleared with DELETE
    await sql(db.url, "TRUNCATE teams, players, matches, player_match_stats");
    const leagues = Array.from({ length: 6 }, (_, i) => ({ id: i + 1, code: `N${i}`, name: `New ${i}`, country: "X", season: 2026 }));
    await ws.writeRelease("r", { "leagues.json": leagues });
    const old = await snapshot(db.url);
    reader = await openReader(db.url);
    const r = reader;
    const probes: Probe[] = [];
    const report = await new AtomicEtl(ws.config({ r: { tables: [{ model: "League", file: "leagues.json" }] } })).import({
      release: "r",
      url: db.url,
      backup: false,
      batchSize: 2,
      hooks: { afterBatch: async () => void probes.push(await probe(r, "leagues")) },
    });
    expect(report.outcome).toBe("committed");
    expect(probes).toEqual([1, 2, 3].map(() => ({ table: "leagues", kind: "rows", rows: old.leagues })));
    const seen = await probe(r, "leagues");
    expect(seen.kind === "rows" && seen.rows.map((x) => x.split(",")[0])).toEqual(["(1", "(2", "(3", "(4", "(5", "(6"]);
  });
});

describe("AtomicEtl.import (one run at a time)", () => {
  it("should let exactly one of two concurrent runs proceed; the other fails fast with LOCK_HELD naming the holder pid", async () => {
    await ws.writeRelease("r", nextRelease());
    const config = ws.config({ r: { tables: STANDARD_TABLES } });
    const paused = gate();
    const resume = gate();
    const first = new AtomicEtl(config).import({
      release: "r",
      url: db.url,
      backup: false,
      hooks: {
        afterBatch: async ({ table }) => {
          if (table !== "leagues") return;
          paused.open();
          await resume.wait;
        },
      },
    });
    await paused.wait;
    const [holder] = await sql<{ pid: number }>(
      db.url,
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    expect(holder?.pid).toEqual(expect.any(Number));

    // the first run is still paused inside its transaction while the second one is refused
    const second = await failure(new AtomicEtl(config).import({ release: "r", url: db.url, backup: false }));
    expect(second.error).toMatchObject({ code: "LOCK_HELD", step: "lock", data: "untouched" });
    expect(second.error.meta.pid).toBe(holder?.pid);
    expect(second.error.message).toContain(`pid ${holder?.pid}`);
    expect(second.error.meta.applicationName).toMatch(/^atomic-etl:lock:/);
    // the holder's own process and machine, not only its backend (here: this very process)
    expect(second.error.meta).toMatchObject({ holderPid: process.pid, holderHost: os.hostname().split(".")[0] });
    expect(second.error.message).toContain(
      `another run holds the lock: process pid ${process.pid} on ${os.hostname().split(".")[0]}, PostgreSQL backend pid ${holder?.pid}`,
    );
    expect(second.error.exitCode).toBe(7);
    expect(second.report.outcome).toBe("refused");
    expect(second.report.tables).toEqual([]);

    resume.open();
    const report = await first;
    expect(report.outcome).toBe("committed");
    expect((await sql<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM leagues"))[0]?.n).toBe(2);
  });

  it("should queue a second run behind the first when it is told to wait", async () => {
    await ws.writeRelease("r", nextRelease());
    const config = ws.config({ r: { tables: STANDARD_TABLES } });
    const paused = gate();
    const resume = gate();
    const order: string[] = [];
    const first = new AtomicEtl(config)
      .import({
        release: "r",
        url: db.url,
        backup: false,
        hooks: {
          afterBatch: async ({ table }) => {
            if (table !== "leagues") return;
            paused.open();
            await resume.wait;
          },
        },
      })
      .then((r) => (order.push("first"), r));
    await paused.wait;
    const second = new AtomicEtl(config)
      .import({ release: "r", url: db.url, backup: false, waitMs: 60_000, redeploy: true })
      .then((r) => (order.push("second"), r));
    // once the second run's lock request is queued behind the first, let the first one finish
    const waiting = async () =>
      (
        await sql<{ n: number }>(
          db.url,
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
      )[0]?.n === 1;
    while (!(await waiting())) await new Promise((r) => setTimeout(r, 50));
    resume.open();
    const [a, b] = await Promise.all([first, second]);
    expect([a.outcome, b.outcome]).toEqual(["committed", "committed"]);
    expect(order).toEqual(["first", "second"]);
    expect(b.tables[0]?.rowsBefore).toBe(2);
  });
  it("should roll back with LOCK_LOST, not commit, when the run lock's session ended during the run", async () => {
    await ws.writeRelease("r", nextRelease());
    const before = await snapshot(db.url);
    const f = await failure(
      new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({
        release: "r",
        url: db.url,
        backup: false,
        hooks: {
          // another session ends the lock's connection (an admin, a proxy, a failover)
          beforeCommit: async () => {
            const [t] = await sql<{ ok: boolean }>(
              db.url,
              "SELECT bool_and(pg_terminate_backend(pid, 5000)) AS ok FROM pg_stat_activity WHERE application_name LIKE 'atomic-etl:lock:%'",
            );
            expect(t?.ok).toBe(true);
          },
        },
      }),
    );
    expect(f.error).toMatchObject({ code: "LOCK_LOST", step: "commit", data: "rolled back; database unchanged" });
    expect(f.error.exitCode).toBe(7);
    expect(await snapshot(db.url)).toEqual(before);
  });
});
