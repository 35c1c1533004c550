import type { Command } from "commander";
import { loadConfig } from "../config/load.js";
import { STRATEGY_NAMES, type StrategyName } from "../config/schema.js";
import { EtlError } from "../errors.js";
import { importRelease } from "../commands/import.js";
import { createLogger } from "../reporting/logger.js";
import { progressDisplay } from "../reporting/progress.js";
import { formatReport, RunFailed } from "../reporting/report.js";
import { forceOrConfirm } from "./confirm-force.js";
import type { CliContext } from "./context.js";
import { installInterrupt } from "./interrupt.js";
import { positiveInt, waitOption } from "./options.js";

export function registerImport(program: Command, ctx: CliContext): void {
  program
    .command("import")
    .description("import a release in one transaction: backup, load, validate, commit once or roll back")
    .argument("<release>", "release name from the config")
    .option("-c, --config <file>", "config file", "etl/etl.config.ts")
    .option("-e, --env <name>", "local | staging | production | a named environment (default: ETL_ENV, then detected, then local)")
    .option("--force", "required to run against production (on a terminal, typing the database name does instead)")
    .option("--backup <mode>", "what to back up first: tables (the release's) | full (the whole database); default: the environment's")
    .option("--no-backup", "skip the pg_dump backup (refused where the environment forbids it)")
    .option("--batch-size <n>", "rows per batch (default: the environment's)", (v) => positiveInt(v, "--batch-size"))
    .option("--strategy <name>", `replace strategy: ${STRATEGY_NAMES.join(" | ")}`)
    .option("--wait [seconds]", "wait for another run's lock instead of failing fast (default 600 s)")
    .option("--expect-plan <hash>", "refuse (PLAN_MISMATCH) unless the release, the targets and the config are still those of this plan")
    .option("--redeploy", "run even when the release and the targets are as the last deploy of the release left them")
    .option("--json", "print the JSON run report on stdout")
    .action(
      async (
        release: string,
        o: {
          config: string;
          env?: string;
          force?: boolean;
          backup?: string | false;
          batchSize?: number;
          strategy?: string;
          wait?: string | boolean;
          expectPlan?: string;
          redeploy?: boolean;
          json?: boolean;
        },
      ) => {
        if (typeof o.backup === "string" && o.backup !== "tables" && o.backup !== "full") {
          throw new EtlError("USAGE", `--backup takes tables or full, got "${o.backup}"; --no-backup skips the backup`, { step: "config" });
        }
        if (o.strategy && !(STRATEGY_NAMES as readonly string[]).includes(o.strategy)) {
          throw new EtlError("USAGE", `unknown strategy "${o.strategy}"; expected ${STRATEGY_NAMES.join(", ")}`, { step: "config" });
        }
        const config = await loadConfig(o.config);
        const force = await forceOrConfirm(config, o, "run", ctx.logger);
        const tty = !o.json && process.stderr.isTTY === true;
        const every = Number(process.env.ATOMIC_ETL_PROGRESS_SECONDS ?? 5);
        const progress = progressDisplay({ tty, log: ctx.logger, everyMs: Number.isFinite(every) && every > 0 ? every * 1000 : 5000 });
        // on a terminal, log lines go above the bars, never through them
        const logger = tty ? createLogger({ pretty: true, destination: { write: (l) => progress.write(l) } }) : ctx.logger;
        const interrupt = installInterrupt(logger);
        const hooks = { ...progress.hooks, onPhase: (phase: string) => interrupt.phase(phase) };
        try {
          const report = await importRelease(
            config,
            {
              release,
              env: o.env,
              force,
              backup: o.backup,
              batchSize: o.batchSize,
              strategy: o.strategy as StrategyName | undefined,
              waitMs: waitOption(o.wait),
              expectPlan: o.expectPlan,
              redeploy: o.redeploy,
              hooks,
              signal: interrupt.signal,
            },
            logger,
          );
          progress.stop();
          ctx.out(o.json ? JSON.stringify(report, null, 2) : formatReport(report));
        } catch (e) {
          progress.stop();
          if (e instanceof RunFailed) {
            if (o.json) ctx.out(JSON.stringify(e.report, null, 2));
            throw e.error;
          }
          throw e;
        } finally {
          interrupt.dispose();
        }
      },
    );
}
