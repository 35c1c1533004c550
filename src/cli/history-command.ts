import type { Command } from "commander";
import { type History, history } from "../commands/history.js";
import { loadConfig } from "../config/load.js";
import type { LedgerRow } from "../ledger/ledger-row.js";
import type { CliContext } from "./context.js";
import { positiveInt } from "./options.js";

const rowsOf = (r: LedgerRow) => r.tables.reduce((a, t) => a + (t.fingerprintAfter?.rows ?? t.records ?? 0), 0);

function formatHistory(h: History): string {
  if (h.rows.length === 0) return `atomic-etl history → ${h.environment}: no runs recorded (ledger ${h.ledgerSchema}.runs)`;
  const lines = [`atomic-etl history → ${h.environment} (ledger ${h.ledgerSchema}.runs), newest first:`];
  for (const r of h.rows) {
    const what = r.kind === "restore" ? `restore of backup ${r.backupId ?? "?"}` : `${r.release ?? "?"} (${r.strategy ?? "?"})`;
    const by = [r.osUser && r.host ? `${r.osUser}@${r.host}` : (r.osUser ?? r.host), r.gitCommit && `git ${r.gitCommit.slice(0, 10)}`]
      .filter(Boolean)
      .join(", ");
    lines.push(
      `  ${r.finishedAt ?? r.startedAt}  ${r.outcome.padEnd(11)}  ${what}  content ${r.contentHash?.slice(0, 12) ?? "-"}  ${rowsOf(r)} rows  run ${r.runId}${by ? `  by ${by}` : ""}`,
    );
    if (r.errorCode) lines.push(`      ${r.errorCode}: ${r.errorMessage ?? ""}`);
  }
  return lines.join("\n");
}

/** `atomic-etl history [--env] [--release] [--limit n] [--json]`. */
export function registerHistory(program: Command, ctx: CliContext): void {
  program
    .command("history")
    .description("show the ledger: every import (committed, rolled back, refused) and restore of this environment, newest first")
    .option("-c, --config <file>", "config file", "etl/etl.config.ts")
    .option("-e, --env <name>", "local | staging | production (default: ETL_ENV, then local)")
    .option("--release <name>", "only this release's runs")
    .option("--limit <n>", "newest rows shown (default 50)", (v) => positiveInt(v, "--limit"))
    .option("--json", "print the rows as JSON on stdout")
    .action(async (o: { config: string; env?: string; release?: string; limit?: number; json?: boolean }) => {
      const h = await history(await loadConfig(o.config), { env: o.env, release: o.release, limit: o.limit });
      ctx.out(o.json ? JSON.stringify(h, null, 2) : formatHistory(h));
    });
}
