/**
 * After a fault: the ledger must agree with the data. The killed run has a committed row if
 * and only if its release is what the database holds, and the newest committed row's
 * fingerprints are exactly the targets' fingerprints now.
 *
 * @example const problems = await ledgerAgrees(url, { runId, committed: state === target })
 */
import { sql } from "./fault-cluster.js";
import { captureState } from "./db-state.js";

interface Row {
  run_id: string;
  outcome: string;
  tables: { table: string; fingerprintAfter: { rows: number; hash: string } | null }[];
}

export interface LedgerVerdict {
  problems: string[];
  /** The killed run's rows, by outcome (a failure row is only there when the run lived to write it). */
  outcomes: string[];
}

export async function ledgerAgrees(url: string, run: { runId: string | null; committed: boolean }): Promise<LedgerVerdict> {
  const [exists] = await sql<{ ok: boolean }>(url, "SELECT to_regclass('atomic_etl.runs') IS NOT NULL AS ok");
  if (!exists?.ok) return { problems: ["no ledger"], outcomes: [] };
  const rows = await sql<Row>(url, "SELECT run_id::text AS run_id, outcome, tables FROM atomic_etl.runs ORDER BY finished_at");
  const problems: string[] = [];
  const mine = rows.filter((r) => r.run_id === run.runId);
  const committed = mine.filter((r) => r.outcome === "committed").length;
  if (run.runId === null) problems.push("the run's id is not in its log");
  else if (run.committed && committed !== 1)
    problems.push(`the database holds the run's release, but the ledger has ${committed} committed row(s) for it`);
  else if (!run.committed && committed !== 0)
    problems.push("the ledger says the run committed, but the database holds the release from before it");
  const last = rows.filter((r) => r.outcome === "committed").at(-1);
  if (!last) problems.push("no committed row at all");
  else {
    const now = (await captureState(url)).fingerprints;
    for (const t of last.tables) {
      const f = t.fingerprintAfter;
      if (f?.rows !== now[t.table]?.rows || f?.hash !== now[t.table]?.hash)
        problems.push(
          `${t.table}: the newest committed ledger row says ${JSON.stringify(f)}, the table is ${JSON.stringify(now[t.table])}`,
        );
    }
  }
  return { problems, outcomes: mine.map((r) => r.outcome) };
}

/** The run id a run's log lines carry (every line of a run's child logger has it). */
export const runIdOf = (lines: readonly Record<string, unknown>[]): string | null => {
  const l = lines.find((x) => typeof x.runId === "string");
  return (l?.runId as string | undefined) ?? null;
};
