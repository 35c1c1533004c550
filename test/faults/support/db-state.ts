/**
 * The whole state of the release's tables: fingerprints (src/db/fingerprint.ts) plus every
 * row's text, so a state is compared exactly, row by row.
 *
 * @example
 * const s = await captureState(url); classify(s, { A, B }) // "A" | "B" | "partial: …"
 */
import pg from "pg";
import { type Fingerprint, fingerprintTables } from "../../../src/db/fingerprint.js";
import { pgTx } from "../../../src/db/pg-client.js";
import { qualified } from "../../../src/sql/quote.js";

export const TARGET_TABLES = ["leagues", "teams", "players", "matches", "player_match_stats", "fault_categories"] as const;

export interface DbState {
  fingerprints: Record<string, Fingerprint>;
  rows: Record<string, string[]>;
}

/** Reads every target table in one REPEATABLE READ snapshot. */
export async function captureState(url: string, tables: readonly string[] = TARGET_TABLES): Promise<DbState> {
  const c = new pg.Client({ connectionString: url, application_name: "fault-test" });
  c.on("error", () => undefined);
  await c.connect();
  try {
    await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const names = tables.map((name) => ({ schema: "public", name }));
    const fingerprints = await fingerprintTables(pgTx(c), names);
    const rows: Record<string, string[]> = {};
    for (const t of names)
      rows[t.name] = (await c.query<{ r: string }>(`SELECT t::text AS r FROM ${qualified(t)} t ORDER BY 1`)).rows.map((x) => x.r);
    await c.query("COMMIT");
    return { fingerprints, rows };
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Differences between two states, as readable lines (empty = identical, row by row). */
export function stateDiff(a: DbState, b: DbState): string[] {
  const out: string[] = [];
  for (const t of new Set([...Object.keys(a.rows), ...Object.keys(b.rows)])) {
    const fa = a.fingerprints[t];
    const fb = b.fingerprints[t];
    if (fa?.rows !== fb?.rows || fa?.hash !== fb?.hash) out.push(`${t}: fingerprint ${JSON.stringify(fa)} vs ${JSON.stringify(fb)}`);
    const ra = a.rows[t] ?? [];
    const rb = b.rows[t] ?? [];
    const i = ra.findIndex((r, k) => r !== rb[k]);
    if (i >= 0 || ra.length !== rb.length)
      out.push(
        `${t}: rows differ (${ra.length} vs ${rb.length}) first at #${i < 0 ? Math.min(ra.length, rb.length) : i}: ${ra[i] ?? "-"} vs ${rb[i] ?? "-"}`,
      );
  }
  return out;
}

/** Which known state `s` is exactly, or "partial". */
export function classify<K extends string>(s: DbState, known: Record<K, DbState>): K | "partial" {
  for (const [k, v] of Object.entries(known) as [K, DbState][]) if (stateDiff(s, v).length === 0) return k;
  return "partial";
}
