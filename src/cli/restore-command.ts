import type { Command } from "commander";
import { restoreById } from "../backup/restore-command-core.js";
import { loadConfig } from "../config/load.js";
import type { CliContext } from "./context.js";

export function registerRestore(program: Command, ctx: CliContext): void {
  program
    .command("restore")
    .description("restore the tables of a backup atomically, then prove them equal to its manifest")
    .argument("<id>", 'backup id, or "latest"')
    .option("-c, --config <file>", "config file", "etl/etl.config.ts")
    .option("-e, --env <name>", "local | staging | production (default: ETL_ENV, then local)")
    .option("--force", "required to restore production")
    .option("--json", "print JSON on stdout")
    .action(async (id: string, o: { config: string; env?: string; force?: boolean; json?: boolean }) => {
      const config = await loadConfig(o.config);
      const r = await restoreById(config, { id, env: o.env, force: o.force });
      ctx.logger.info({ phase: "restore", tables: r.tables.length, durationMs: r.durationMs }, "restored");
      ctx.out(o.json ? JSON.stringify(r, null, 2) : `restored ${r.id}: ${r.tables.join(", ")} (${r.durationMs} ms), verified against its manifest`);
    });
}
