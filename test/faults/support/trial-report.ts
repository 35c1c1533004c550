/**
 * Prints the fault-trial summaries and keeps them as JSON under .tmp/ for the record.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { formatKillSummary, type KillSummary } from "./kill-trials.js";
import { formatInProcessSummary, type InProcessSummary } from "./inprocess-trials.js";
import { REPO_ROOT } from "./paths.js";

export interface SuiteSummary {
  kill?: KillSummary;
  /** Kill trials aimed at the commit gate (the ledger's fingerprints, its row, COMMIT). */
  ledgerKills?: KillSummary;
  crash?: InProcessSummary;
  terminate?: InProcessSummary;
  durationMs: number;
}

export async function printSummary(name: string, s: SuiteSummary): Promise<void> {
  const parts = [`==== ${name}: fault summary (${(s.durationMs / 1000).toFixed(0)} s) ====`];
  if (s.kill) parts.push(formatKillSummary(s.kill));
  if (s.ledgerKills) parts.push(`commit gate: ${formatKillSummary(s.ledgerKills)}`);
  if (s.crash) parts.push(formatInProcessSummary("server crash (stop -m immediate)", s.crash));
  if (s.terminate) parts.push(formatInProcessSummary("pg_terminate_backend", s.terminate));
  const partial =
    (s.kill?.partialStates ?? 0) + (s.ledgerKills?.partialStates ?? 0) + (s.crash?.partialStates ?? 0) + (s.terminate?.partialStates ?? 0);
  const disagreed = [s.kill, s.ledgerKills, s.crash, s.terminate].reduce((a, x) => a + (x?.ledger.disagreed ?? 0), 0);
  parts.push(`TOTAL partial states found: ${partial}; ledger and data disagreed: ${disagreed}`);
  console.log(parts.join("\n"));
  const out = path.join(REPO_ROOT, ".tmp", `${name}-summary.json`);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(s, null, 2)}\n`);
}
