import type { Command } from "commander";
import { type ReleaseStatus, type Status, status, type TableStatus } from "../commands/status.js";
import { loadConfig } from "../config/load.js";
import type { CliContext } from "./context.js";

function tableLine(t: TableStatus): string {
  if (t.state === "unreadable") return `    ${t.table}: cannot read (${t.error ?? "?"})`;
  const rows = t.rowsRecorded === t.rowsNow ? `${t.rowsNow} rows` : `rows ${t.rowsRecorded ?? "?"} → ${t.rowsNow ?? "?"}`;
  if (t.state === "in sync") return `    ${t.table}: in sync (${rows})`;
  if (t.rowsDiffer === null) return `    ${t.table}: drifted, fingerprint differs (${rows})`;
  // a lower bound: exact unless two changed rows share a bucket
  return `    ${t.table}: drifted, at least ${t.rowsDiffer} ${t.rowsDiffer === 1 ? "row differs" : "rows differ"} (${t.bucketsDiffer} of ${t.buckets} key buckets changed; ${rows})`;
}

function releaseLines(r: ReleaseStatus, env: string): string[] {
  const d = r.deployed;
  if (!d) return [`  ${r.release}: never deployed to ${env}`];
  const by = [d.osUser && d.host ? `${d.osUser}@${d.host}` : (d.osUser ?? d.host), d.gitCommit && `git ${d.gitCommit.slice(0, 10)}`]
    .filter(Boolean)
    .join(", ");
  const lines = [
    `  ${r.release}: ${r.inSync ? "in sync" : "DRIFTED"}; deployed ${d.finishedAt ?? "?"}, content ${d.contentHash?.slice(0, 12) ?? "?"}, run ${d.runId}${by ? `, by ${by}` : ""}, atomic-etl ${d.toolVersion}`,
  ];
  if (r.filesChanged === null) lines.push(`    release files: cannot read (${r.filesError ?? "?"})`);
  else
    lines.push(`    release files: ${r.filesChanged.length ? `changed since that deploy: ${r.filesChanged.join(", ")}` : "as deployed"}`);
  lines.push(...r.tables.map(tableLine));
  if (r.restoredAfter)
    lines.push(
      `    note: backup ${r.restoredAfter.backupId ?? "?"} was restored after this deploy, at ${r.restoredAfter.finishedAt ?? "?"}`,
    );
  return lines;
}

export function formatStatus(s: Status): string {
  return [
    `atomic-etl status → ${s.environment} (ledger ${s.ledgerSchema}):`,
    ...s.releases.flatMap((r) => releaseLines(r, s.environment)),
  ].join("\n");
}

/** `atomic-etl status [--env] [--release] [--json]`. */
export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command("status")
    .description("per release: the last deploy here, and whether its tables still hold what it committed (drift)")
    .option("-c, --config <file>", "config file", "etl/etl.config.ts")
    .option("-e, --env <name>", "local | staging | production (default: ETL_ENV, then local)")
    .option("--release <name>", "only this release")
    .option("--json", "print the status as JSON on stdout")
    .action(async (o: { config: string; env?: string; release?: string; json?: boolean }) => {
      const s = await status(await loadConfig(o.config), { env: o.env, release: o.release });
      ctx.out(o.json ? JSON.stringify(s, null, 2) : formatStatus(s));
    });
}
