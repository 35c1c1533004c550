import path from "node:path";
import type { Command } from "commander";
import { listBackups } from "../backup/retention.js";
import { pickEnvironmentName } from "../config/environments.js";
import { loadConfig, resolveEnvironment } from "../config/load.js";
import type { CliContext } from "./context.js";

export function registerBackups(program: Command, ctx: CliContext): void {
  program
    .command("backups")
    .description("list the backups of an environment, newest first")
    .option("-c, --config <file>", "config file", "etl/etl.config.ts")
    .option("-e, --env <name>", "local | staging | production (default: ETL_ENV, then local)")
    .option("--json", "print JSON on stdout")
    .action(async (o: { config: string; env?: string; json?: boolean }) => {
      const config = await loadConfig(o.config);
      const { name: env } = resolveEnvironment(config, pickEnvironmentName(o.env));
      const rows = (await listBackups(path.resolve(config.root, config.backupDir)))
        .filter((b) => b.manifest.environment === env)
        .map((b) => ({
          id: b.manifest.id,
          createdAt: b.manifest.createdAt,
          release: b.manifest.release,
          tables: Object.keys(b.manifest.tables),
          rows: Object.values(b.manifest.tables).reduce((a, t) => a + t.rows, 0),
          sizeBytes: b.manifest.sizeBytes,
          path: b.dumpPath,
        }));
      if (o.json) return ctx.out(JSON.stringify(rows, null, 2));
      if (!rows.length) return ctx.out(`no backups for ${env}`);
      for (const r of rows) ctx.out(`${r.id}  ${r.createdAt}  ${r.release ?? "-"}  ${r.tables.length} tables  ${r.rows} rows  ${(r.sizeBytes / 1024).toFixed(0)} KiB`);
    });
}
