#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { EtlError } from "../errors.js";
import { createLogger } from "../reporting/logger.js";
import { redactUrl } from "../reporting/redact.js";
import { registerBackups } from "./backups-command.js";
import type { CliContext } from "./context.js";
import { registerHistory } from "./history-command.js";
import { registerExport } from "./export-command.js";
import { registerImport } from "./import-command.js";
import { registerPlan } from "./plan-command.js";
import { registerRestore } from "./restore-command.js";
import { registerStatus } from "./status-command.js";
import { registerSample } from "./sample-command.js";

/** Runs the CLI; resolves with the exit code. Errors are printed once, on stderr. */
export async function main(argv: string[] = process.argv): Promise<number> {
  // a reader that stops reading (`| head`) must not turn a committed run into a crash
  let stdoutOpen = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    stdoutOpen = false;
  });
  const ctx: CliContext = { logger: createLogger(), out: (t) => void (stdoutOpen && process.stdout.write(`${t}\n`)) };
  const program = new Command()
    .name("atomic-etl")
    .description("Deploy JSON data releases into PostgreSQL through Prisma as one atomic unit.")
    .exitOverride()
    .showHelpAfterError();
  registerImport(program, ctx);
  registerPlan(program, ctx);
  registerBackups(program, ctx);
  registerRestore(program, ctx);
  registerHistory(program, ctx);
  registerStatus(program, ctx);
  registerExport(program, ctx);
  registerSample(program, ctx);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    const err = e instanceof EtlError ? e : new EtlError("INTERNAL", (e as Error)?.stack ?? String(e));
    const stopped = err.code === "INTERRUPTED" || err.code === "TERMINATED" ? `${err.code.toLowerCase()}: ${err.data}\n` : "";
    process.stderr.write(`${stopped}${redactUrl(err.describe())}\n`);
    return err.exitCode;
  }
}

const invokedDirectly =
  process.argv[1] &&
  import.meta.url === (await import("node:url")).pathToFileURL((await import("node:fs")).realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
