import type { Command } from "commander";
import { restoreById } from "../commands/restore.js";
import { loadConfig } from "../config/load.js";
import { forceOrConfirm } from "./confirm-force.js";
import type { CliContext } from "./context.js";
import { waitOption } from "./options.js";

interface RestoreCliOptions {
  config: string;
  env?: string;
  force?: boolean;
  wait?: string | boolean;
  json?: boolean;
  intoOtherDatabase?: boolean;
}

/** `atomic-etl restore <id|latest> [--env] [--force] [--into-other-database] [--wait [s]] [--json]`. */
export function registerRestore(program: Command, ctx: CliContext): void {
  program
    .command("restore")
    .description("restore the tables of a backup in one transaction, proven equal to its manifest before COMMIT")
    .argument("<id>", 'backup id (see `atomic-etl backups`), or "latest": the newest backup of this database whose run committed')
    .option("-c, --config <file>", "config file", "etl/etl.config.ts")
    .option("-e, --env <name>", "local | staging | production | a named environment (default: ETL_ENV, then detected, then local)")
    .option("--force", "required to restore production (on a terminal, typing the database name does instead)")
    .option("--into-other-database", "restore a backup of another database (or of unknown identity) into this one, on purpose")
    .option("--wait [seconds]", "wait for a running import's lock instead of failing fast (default 600 s)")
    .option("--json", "print the result as JSON on stdout")
    .action(async (id: string, o: RestoreCliOptions) => {
      const config = await loadConfig(o.config);
      const force = await forceOrConfirm(config, o, "restore", ctx.logger);
      const waitMs = waitOption(o.wait);
      const r = await restoreById(config, {
        id,
        env: o.env,
        force,
        waitMs,
        intoOtherDatabase: o.intoOtherDatabase,
        log: ctx.logger,
      });
      const outside = r.foreignKeys.length ? `; ${r.foreignKeys.length} FK(s) of other tables put back and validated` : "";
      ctx.out(
        o.json
          ? JSON.stringify(r, null, 2)
          : `restored ${r.id}: ${r.tables.join(", ")} (${r.rows} rows, ${r.durationMs} ms), proven equal to its manifest${outside}`,
      );
    });
}
