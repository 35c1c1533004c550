import type { Command } from "commander";
import { restoreById } from "../backup/restore-command-core.js";
import { loadConfig } from "../config/load.js";
import type { CliContext } from "./context.js";
import { waitOption } from "./options.js";

/** `atomic-etl restore <id|latest> [--env] [--force] [--wait [s]] [--json]`. */
export function registerRestore(program: Command, ctx: CliContext): void {
  program
    .command("restore")
    .description("restore the tables of a backup in one transaction, proven equal to its manifest before COMMIT")
    .argument("<id>", 'backup id (see `atomic-etl backups`), or "latest"')
    .option("-c, --config <file>", "config file", "etl/etl.config.ts")
    .option("-e, --env <name>", "local | staging | production (default: ETL_ENV, then local)")
    .option("--force", "required to restore production")
    .option("--wait [seconds]", "wait for a running import's lock instead of failing fast (default 600 s)")
    .option("--json", "print the result as JSON on stdout")
    .action(async (id: string, o: { config: string; env?: string; force?: boolean; wait?: string | boolean; json?: boolean }) => {
      const config = await loadConfig(o.config);
      const waitMs = waitOption(o.wait);
      const r = await restoreById(config, { id, env: o.env, force: o.force, waitMs, log: ctx.logger });
      ctx.out(
        o.json
          ? JSON.stringify(r, null, 2)
          : `restored ${r.id}: ${r.tables.join(", ")} (${r.rows} rows, ${r.durationMs} ms), proven equal to its manifest`,
      );
    });
}
