import path from "node:path";
import type { Command } from "commander";
import { sample } from "../commands/sample.js";
import { loadConfig } from "../config/load.js";
import { EtlError } from "../errors.js";
import type { ReleaseReport } from "../sample/make-release.js";
import type { CliContext } from "./context.js";
import { positiveInt } from "./options.js";
import { incrementalProgress, progressDisplay } from "../reporting/progress.js";

/** The options `export` and `sample` share: where to read from and where to write. */
export function sourceOptions(cmd: Command): Command {
  return cmd
    .option("-c, --config <file>", "config file", "etl/etl.config.ts")
    .option("--from <env>", "environment to read from: local | staging | production (its URL variable, as for import)")
    .option(
      "--from-url-env <var>",
      "read the source URL from this environment variable (instead of, or over, --from's; never a URL in argv)",
    )
    .option("-o, --out <dir>", "release directory (default: <releasesDir>/<name>)")
    .option("--force", "replace an existing output directory (swapped only once the new release is complete)")
    .option("-j, --jobs <n>", "connections sharing the snapshot (default 2)", (v) => positiveInt(v, "--jobs"))
    .option("--batch-size <n>", "row ids per keyset batch (default 5000)", (v) => positiveInt(v, "--batch-size"))
    .option("--json", "print the release manifest (JSON) on stdout");
}

export interface SourceFlags {
  config: string;
  from?: string;
  fromUrlEnv?: string;
  out?: string;
  force?: boolean;
  jobs?: number;
  batchSize?: number;
  json?: boolean;
}

/** Runs `write` (export or sample) with progress on stderr, then prints its report or manifest. */
export async function writeWithProgress(
  ctx: CliContext,
  o: SourceFlags,
  write: (common: SourceOptions) => Promise<ReleaseReport>,
): Promise<void> {
  if (o.from === undefined && o.fromUrlEnv === undefined) {
    throw new EtlError("USAGE", "where to read from is missing: pass --from <env> or --from-url-env <VAR>", {
      step: "preflight",
      next: "atomic-etl … --from production (its URL variable, databaseUrlEnv in the config), or --from-url-env SOURCE_URL",
    });
  }
  const progress = progressDisplay({ tty: !o.json && process.stderr.isTTY === true, log: ctx.logger });
  try {
    // --out is typed in the shell: it is relative to the working directory, not to the config's folder
    const out = o.out === undefined ? undefined : path.resolve(o.out);
    const common = { from: o.from, fromUrlEnv: o.fromUrlEnv, out, force: o.force, jobs: o.jobs, batchSize: o.batchSize };
    const r = await write({ ...common, logger: ctx.logger, hooks: incrementalProgress(progress) });
    progress.stop();
    ctx.out(o.json ? JSON.stringify(r.manifest, null, 2) : formatReleaseReport(r));
  } finally {
    progress.stop();
  }
}

type SourceOptions = Omit<SourceFlags, "config" | "json"> & { logger: CliContext["logger"]; hooks: ReturnType<typeof incrementalProgress> };

/** One paragraph for people: where it went, what it holds, how it was read. */
export function formatReleaseReport(r: ReleaseReport): string {
  const m = r.manifest;
  const lines = [
    `${r.kind} ${r.name}: ${r.rows} rows in ${m.tables.length} tables → ${r.dir} (${(r.durationMs / 1000).toFixed(1)} s)`,
    `  source: ${m.source.database}${m.source.standby ? " (standby)" : ""}, snapshot ${m.snapshot.id ?? "(one connection)"} at LSN ${m.snapshot.lsn ?? "?"}`,
    `  plan:   ${m.plan.mode}, ${m.plan.workers} connection(s)`,
    ...m.tables.map((t) => `  ${t.table.padEnd(24)} ${String(t.rows).padStart(9)} rows  ${t.file}`),
    closureLine(m),
    `  next:   ${r.next ?? `atomic-etl import ${r.name} --env <env>`}`,
  ];
  return lines.join("\n");
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** FKs proven inside the release, those to tables outside it (an export of some tables), and masks. */
function closureLine(m: ReleaseReport["manifest"]): string {
  const external = m.closure.filter((c) => c.external).map((c) => `${String(c.child)} → ${String(c.parent)}`);
  return [
    `  closure: ${plural(m.closure.length - external.length, "FK")} resolved inside the release`,
    external.length
      ? `; ${plural(external.length, "FK")} to tables outside it (${external.join(", ")}): the import checks those against the target`
      : "",
    m.masks.length ? `; ${plural(m.masks.length, "masked column")}` : "",
  ].join("");
}

export function registerSample(program: Command, ctx: CliContext): void {
  sourceOptions(
    program
      .command("sample")
      .description("write an FK-closed (optionally masked) sample of a live database as a release, from one read-only snapshot")
      .argument("<name>", "sample name (config `samples`); also the release it writes"),
  )
    .option(
      "-l, --limit <rule>",
      "rows per table: players=1000, *=100, matches=10%, leagues=all (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .action(async (name: string, o: SourceFlags & { limit: string[] }) => {
      const config = await loadConfig(o.config);
      await writeWithProgress(ctx, o, (common) => sample(config, { name, limits: o.limit, ...common }));
    });
}
