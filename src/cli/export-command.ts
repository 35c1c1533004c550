import type { Command } from "commander";
import { exportRelease } from "../commands/export.js";
import { loadConfig } from "../config/load.js";
import type { CliContext } from "./context.js";
import { type SourceFlags, sourceOptions, writeWithProgress } from "./sample-command.js";

export function registerExport(program: Command, ctx: CliContext): void {
  sourceOptions(
    program
      .command("export")
      .description("write every row of a release's tables from a live database into the release's files, from one read-only snapshot")
      .argument("<release>", "release name from the config"),
  ).action(async (release: string, o: SourceFlags) => {
    const config = await loadConfig(o.config);
    await writeWithProgress(ctx, o, (common) => exportRelease(config, { release, ...common }));
  });
}
