import { cp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import type { RunHooks } from "../../src/runner/plan.js";
import { generateRelease } from "../../scripts/release-generator.js";
import { ALL_TABLES, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";
import { expectNoResidue } from "./support.js";

const { db, ws } = useTestProject({ seed: false });

/** A release big enough that every phase of a plan takes a while: 40,000 rows, loaded in many batches. */
const ROWS = 40_000;
let v1Dir = "";
let v2Dir = "";
/** v1 with every 10th player renamed: a release that merges onto v1 (seed 2's stats would collide on (player, match)). */
let v2MergeDir = "";

beforeAll(async () => {
  v1Dir = `${os.tmpdir()}/atomic-etl-plan-block-v1-${process.pid}`;
  v2Dir = `${os.tmpdir()}/atomic-etl-plan-block-v2-${process.pid}`;
  await generateRelease({ out: v1Dir, rows: ROWS, seed: 1 });
  await generateRelease({ out: v2Dir, rows: ROWS, seed: 2 });
  v2MergeDir = `${os.tmpdir()}/atomic-etl-plan-block-v2m-${process.pid}`;
  await cp(v1Dir, v2MergeDir, { recursive: true });
  const file = `${v2MergeDir}/players.json`;
  const players = JSON.parse(await readFile(file, "utf8")) as { fullName: string }[];
  players.forEach((p, i) => {
    if (i % 10 === 0) p.fullName += " II";
  });
  await writeFile(file, JSON.stringify(players));
}, 120_000);

afterAll(async () => {
  await rm(v1Dir, { recursive: true, force: true });
  await rm(v2Dir, { recursive: true, force: true });
  await rm(v2MergeDir, { recursive: true, force: true });
});

/** Locks any session of the plan holds on the targets, other than ACCESS SHARE (which only TRUNCATE, ALTER, DROP wait for). */
async function strongerLocks(url: string): Promise<string[]> {
  const rows = await sql<{ l: string }>(
    url,
    `SELECT c.relname || ' ' || l.mode || CASE WHEN l.granted THEN '' ELSE ' (waiting)' END AS l
       FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE n.nspname = 'public' AND a.application_name LIKE 'atomic-etl%' AND l.mode <> 'AccessShareLock'`,
  );
  const advisory = await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'");
  return [...rows.map((r) => r.l), ...(advisory[0]?.n ? [`${advisory[0].n} advisory lock(s)`] : [])];
}

/** A reader and a writer that give up after 100 ms of waiting for a lock: they must never have to. */
async function readAndWrite(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url, application_name: "test-app" });
  await c.connect();
  try {
    await c.query("SET lock_timeout = '100ms'");
    for (const t of ALL_TABLES) await c.query(`SELECT count(*) FROM "${t}"`);
    await c.query("BEGIN");
    await c.query("UPDATE players SET full_name = full_name || '' WHERE id IN (SELECT id FROM players ORDER BY id LIMIT 3)");
    await c.query("DELETE FROM player_match_stats WHERE id IN (SELECT id FROM player_match_stats ORDER BY id LIMIT 3)");
    await c.query("INSERT INTO leagues (id, code, name, country, season) VALUES (987654, 'X-TEST', 'x', 'x', 2026)");
    await c.query("ROLLBACK");
  } finally {
    await c.end();
  }
}

/** A reader probing every 10 ms for the whole plan: its longest wait, reported (never asserted: the machine is shared). */
function probe(url: string): { stop(): Promise<{ probes: number; maxMs: number }> } {
  let running = true;
  const result = { probes: 0, maxMs: 0 };
  const done = (async () => {
    const c = new pg.Client({ connectionString: url, application_name: "test-probe" });
    await c.connect();
    await c.query("SET lock_timeout = '100ms'");
    while (running) {
      const t = performance.now();
      await c.query("SELECT count(*) FROM players WHERE id % 7 = 0");
      result.maxMs = Math.max(result.maxMs, performance.now() - t);
      result.probes++;
      await new Promise((r) => setTimeout(r, 10));
    }
    await c.end();
  })();
  return {
    async stop() {
      running = false;
      await done;
      return result;
    },
  };
}

describe("plan blocks no reader or writer", () => {
  it("should catch an import's own locks with the same probes (the control: direct holds ACCESS EXCLUSIVE from its clear)", async () => {
    const etl = new AtomicEtl(ws.config({ v1: { dir: v1Dir, tables: STANDARD_TABLES }, v2: { dir: v2Dir, tables: STANDARD_TABLES } }));
    await etl.import({ release: "v1", url: db.url, backup: false });
    let locks: string[] = [];
    let blocked: unknown = null;
    await etl.import({
      release: "v2",
      url: db.url,
      backup: false,
      hooks: {
        afterBatch: async ({ table, batch }) => {
          if (table !== "players" || batch !== 1) return;
          locks = await strongerLocks(db.url);
          blocked = await readAndWrite(db.url).then(
            () => null,
            (e: unknown) => e,
          );
        },
      },
    });
    expect(locks).toEqual(expect.arrayContaining(["players AccessExclusiveLock"]));
    expect((blocked as { code?: string } | null)?.code).toBe("55P03");
  });

  for (const strategy of ["direct", "staged-truncate", "swap", "merge"] as const) {
    it(`should hold nothing but ACCESS SHARE on the targets in every phase of a ${strategy} plan, so readers and writers never wait`, async () => {
      const tables = strategy === "merge" ? STANDARD_TABLES.map((t) => ({ ...t, mode: "merge" as const })) : STANDARD_TABLES;
      const config = ws.config({
        v1: { dir: v1Dir, tables: STANDARD_TABLES },
        v2: strategy === "merge" ? { dir: v2MergeDir, tables } : { dir: v2Dir, tables, strategy },
      });
      const etl = new AtomicEtl(config);
      await etl.import({ release: "v1", url: db.url, backup: false });
      const before = await stateOf(db.url);
      const seen: Record<string, string[]> = {};
      const inspect = async (where: string) => {
        seen[where] = await strongerLocks(db.url);
        await readAndWrite(db.url);
      };
      let batches = 0;
      const hooks: RunHooks = {
        onPhase: (phase) => inspect(`phase ${phase}`),
        afterBatch: async ({ table }) => {
          if (++batches % 4 === 0) await inspect(`batch of ${table}`);
        },
        beforeCommit: () => inspect("before the rollback"),
      };
      const reader = probe(db.url);
      const plan = await etl.plan({ release: "v2", url: db.url, batchSize: 2000, hooks });
      const stall = await reader.stop();
      expect(plan.outcome).toBe("planned");
      expect(Object.keys(seen)).toEqual(
        expect.arrayContaining(["phase clear", "phase load", "phase validate", "phase diff", "before the rollback"]),
      );
      expect(Object.entries(seen).filter(([, locks]) => locks.length)).toEqual([]);
      expect(await stateOf(db.url)).toEqual(before);
      await expectNoResidue(db.url);
      console.log(
        `[plan ${strategy}] ${ROWS} rows in ${plan.durationMs} ms; reader probes ${stall.probes}, longest ${stall.maxMs.toFixed(1)} ms`,
      );
    });
  }
});
