import type { Command } from "commander";
import { planRelease } from "../commands/plan.js";
import { loadConfig } from "../config/load.js";
import { STRATEGY_NAMES, type StrategyName } from "../config/schema.js";
import { EtlError } from "../errors.js";
import { formatPlan } from "../plan/format-plan.js";
import { RunFailed } from "../reporting/report.js";
import type { CliContext } from "./context.js";
import { positiveInt } from "./options.js";

/** `atomic-etl plan <release> [--env] [--strategy] [--batch-size] [--samples n] [--json]`: exit 0 when deployable. */
export function registerPlan(program: Command, ctx: CliContext): void {
  program
    .command("plan")
    .description(
      "show what an import would change, through the import's own path, ending in ROLLBACK: writes nothing, blocks no reader or writer",
    )
    .argument("<release>", "release name from the config")
    .option("-c, --config <file>", "config file", "etl/etl.config.ts")
    .option("-e, --env <name>", "local | staging | production (default: ETL_ENV, then local); production needs no --force")
    .option("--strategy <name>", `replace strategy: ${STRATEGY_NAMES.join(" | ")}`)
    .option("--batch-size <n>", "rows per batch (default: the environment's)", (v) => positiveInt(v, "--batch-size"))
    .option("--samples <n>", "example changed rows per table and kind (default 5; 0 for none)", (v) =>
      v === "0" ? 0 : positiveInt(v, "--samples"),
    )
    .option("--json", "print the plan (the run report, outcome planned) as JSON on stdout")
    .action(
      async (
        release: string,
        o: { config: string; env?: string; strategy?: string; batchSize?: number; samples?: number; json?: boolean },
      ) => {
        if (o.strategy && !(STRATEGY_NAMES as readonly string[]).includes(o.strategy)) {
          throw new EtlError("USAGE", `unknown strategy "${o.strategy}"; expected ${STRATEGY_NAMES.join(", ")}`, { step: "config" });
        }
        const config = await loadConfig(o.config);
        try {
          const report = await planRelease(
            config,
            { release, env: o.env, strategy: o.strategy as StrategyName | undefined, batchSize: o.batchSize, samples: o.samples },
            ctx.logger,
          );
          ctx.out(o.json ? JSON.stringify(report, null, 2) : formatPlan(report));
        } catch (e) {
          if (e instanceof RunFailed) {
            if (o.json) ctx.out(JSON.stringify(e.report, null, 2));
            throw e.error;
          }
          throw e;
        }
      },
    );
}
