import type { Command } from "commander";
import { type BackupRow, listBackupRows } from "../commands/backups.js";
import { loadConfig } from "../config/load.js";
import type { CliContext } from "./context.js";

const size = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);

/**
 * `atomic-etl backups [--env] [--all] [--json] [--verify]`: argv and printing of
 * {@link listBackupRows}; `--all` adds a database column.
 */
export function registerBackups(program: Command, ctx: CliContext): void {
  program
    .command("backups")
    .description("list this database's backups in an environment, newest first (--all: every database's)")
    .option("-c, --config <file>", "config file", "etl/etl.config.ts")
    .option("-e, --env <name>", "local | staging | production (default: ETL_ENV, then local)")
    .option("--all", "list the backups of every database (and of unknown identity), with a database column")
    .option("--verify", "also check every dump's sha256 and table of contents")
    .option("--json", "print JSON on stdout")
    .action(async (o: { config: string; env?: string; verify?: boolean; json?: boolean; all?: boolean }) => {
      const config = await loadConfig(o.config);
      const { env, scoped, rows, hidden } = await listBackupRows(config, { env: o.env, all: o.all, verify: o.verify, log: ctx.logger });
      if (o.json) return ctx.out(JSON.stringify(rows, null, 2));
      const note = hidden
        ? `(${hidden} backup(s) of other databases, schemas or of unknown identity in ${env} not shown: --all lists them)`
        : "";
      if (!rows.length) return ctx.out([`no backups for ${env}${scoped ? " of this database" : ""}`, note].filter(Boolean).join("\n"));
      printTable(ctx, rows, o.all === true);
      if (note) ctx.out(note);
    });
}

function printTable(ctx: CliContext, rows: readonly BackupRow[], withDatabase: boolean): void {
  const w = Math.max(...rows.map((r) => r.id.length));
  const db = (s: string) => (withDatabase ? `  ${s}` : "");
  ctx.out(
    `${"id".padEnd(w)}  ${"created at".padEnd(24)}  ${"release".padEnd(20)}  ${"outcome".padEnd(11)}  tables  ${"rows".padStart(10)}  ${"size".padStart(10)}  state${db("database")}`,
  );
  for (const r of rows) {
    ctx.out(
      `${r.id.padEnd(w)}  ${r.createdAt.padEnd(24)}  ${(r.release ?? "-").padEnd(20)}  ${r.outcome.padEnd(11)}  ${String(r.tables.length).padStart(6)}  ${String(r.rows).padStart(10)}  ${size(r.sizeBytes).padStart(10)}  ${r.state.padEnd(12)}${db(r.database)}`,
    );
  }
}
