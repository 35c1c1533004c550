/**
 * Helpers of the plan tests: a second release that inserts, updates and deletes rows of the
 * standard one, the truth of a change computed from two snapshots (never by the code under
 * test), and what a plan must not leave behind.
 */
import { expect } from "vitest";
import type { RunReport } from "../../src/reporting/report.js";
import { ALL_TABLES, clone, nextRelease, sql, tableRows } from "../fixtures/core/kit.js";

type Rec = Record<string, unknown>;

/** The standard release, changed: every table loses, gains or changes rows (FKs still hold). */
export function changedRelease(): Record<string, Rec[]> {
  const r = clone(nextRelease());
  const teams = r["teams.json"] as Rec[];
  teams[3] = { ...teams[3], shortName: "VAL" };
  const players = r["players.json"] as Rec[];
  players[0] = { ...players[0], fullName: "Ada Keeper-Smith", heightCm: 190 };
  players.splice(3, 1); // player 111 (and its stat line 4) go
  players.push({ id: 120, teamId: 11, fullName: "Gi Newcomer", position: "DEFENDER", updatedAt: "2026-02-01T10:00:00Z" });
  const matches = r["matches.json"] as Rec[];
  matches[1] = { ...matches[1], status: "FINISHED", homeGoals: 1, awayGoals: 1 };
  const stats = (r["player_match_stats.json"] as Rec[]).filter((s) => s.playerId !== 111);
  stats.push({ id: 9, playerId: 120, matchId: 1001, minutesPlayed: 12, createdAt: "2026-03-01T17:00:00Z" });
  r["player_match_stats.json"] = stats;
  return r;
}

export type Snapshot = Record<string, Map<string, string>>;

/** Every row of every example table by id, in a comparable text form. */
export async function byId(url: string, tables: readonly string[] = ALL_TABLES): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const t of tables) out[t] = new Map((await tableRows(url, t)).map((r) => [String(r.id), JSON.stringify(r)]));
  return out;
}

/** Inserted / updated / deleted / unchanged by id between two snapshots of one table. */
export function truth(before: Map<string, string>, after: Map<string, string>) {
  let inserted = 0;
  let updated = 0;
  let unchanged = 0;
  for (const [id, row] of after) {
    const old = before.get(id);
    if (old === undefined) inserted++;
    else if (old === row) unchanged++;
    else updated++;
  }
  const deleted = [...before.keys()].filter((id) => !after.has(id)).length;
  return { inserted, updated, deleted, unchanged };
}

/**
 * The plan's findings per table, asserted equal to the import's own counts and to the real
 * change. A plan's `unchanged` counts the rows the release replaces or names and leaves as
 * they were; rows it never touches (outside a scope, absent from a merge) are kept on top.
 */
export function expectPlanMatchesImport(plan: RunReport, imported: RunReport, before: Snapshot, after: Snapshot): void {
  expect(plan.outcome).toBe("planned");
  expect(imported.outcome).toBe("committed");
  expect(plan.tables.map((t) => t.table)).toEqual(imported.tables.map((t) => t.table));
  for (const p of plan.tables) {
    const i = imported.tables.find((t) => t.table === p.table);
    expect(p.planned?.writes, `${p.table}: the final phase's writes`).toEqual(i?.applied);
    expect(p.planned?.rowsNow, `${p.table}: rows now`).toBe(i?.rowsBefore);
    expect(p.planned?.rowsAfter, `${p.table}: rows after`).toBe(after[p.table]?.size);
    const real = truth(before[p.table] ?? new Map(), after[p.table] ?? new Map());
    const c = p.planned?.changes;
    expect({ ...c, unchanged: 0 }, `${p.table}: changes by key`).toEqual({ ...real, unchanged: 0 });
    const kept = (p.planned?.rowsAfter ?? 0) - (c?.inserted ?? 0) - (c?.updated ?? 0) - (c?.unchanged ?? 0);
    expect((c?.unchanged ?? 0) + kept, `${p.table}: rows left as they were`).toBe(real.unchanged);
    if (p.planned?.strategy !== "scoped" && p.planned?.strategy !== "merge")
      expect(kept, `${p.table}: a full replace keeps nothing aside`).toBe(0);
  }
}

/** Nothing of a plan may stay: no work table, no advisory lock, no session of the run. */
export async function expectNoResidue(url: string): Promise<void> {
  const read = async () =>
    (
      await sql<{ work: number; advisory: number; sessions: number }>(
        url,
        `SELECT (SELECT count(*)::int FROM pg_class WHERE relname LIKE 'atomic\\_etl\\_%') AS work,
                (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory') AS advisory,
                (SELECT count(*)::int FROM pg_stat_activity WHERE application_name LIKE 'atomic-etl%') AS sessions`,
      )
    )[0];
  // a closed client's backend may take a moment to leave pg_stat_activity
  let r = await read();
  for (let i = 0; i < 50 && r?.sessions; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    r = await read();
  }
  expect(r).toEqual({ work: 0, advisory: 0, sessions: 0 });
}
