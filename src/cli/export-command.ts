import type { Command } from "commander";
import { exportRelease } from "../commands/export.js";
import { loadConfig } from "../config/load.js";
import type { CliContext } from "./context.js";
import { incrementalProgress, progressDisplay } from "../reporting/progress.js";
import { formatReleaseReport, type SourceFlags, sourceOptions } from "./sample-command.js";

export function registerExport(program: Command, ctx: CliContext): void {
  sourceOptions(
    program
      .command("export")
      .description("write every row of a release's tables from a live database into the release's files, from one read-only snapshot")
      .argument("<release>", "release name from the config"),
  ).action(async (release: string, o: SourceFlags) => {
    const config = await loadConfig(o.config);
    const progress = progressDisplay({ tty: !o.json && process.stderr.isTTY === true, log: ctx.logger });
    try {
      const r = await exportRelease(config, {
        release,
        from: o.from,
        fromUrlEnv: o.fromUrlEnv,
        out: o.out,
        force: o.force,
        jobs: o.jobs,
        batchSize: o.batchSize,
        logger: ctx.logger,
        hooks: incrementalProgress(progress),
      });
      progress.stop();
      ctx.out(o.json ? JSON.stringify(r.manifest, null, 2) : formatReleaseReport(r));
    } finally {
      progress.stop();
    }
  });
}
