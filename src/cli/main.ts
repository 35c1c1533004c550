#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError, Help } from "commander";
import { connectError } from "../db/pg-errors.js";
import { EtlError } from "../errors.js";
import { createLogger } from "../reporting/logger.js";
import { redactUrl } from "../reporting/redact.js";
import { COMMANDS, commandOf } from "./command-table.js";
import type { CliContext } from "./context.js";

/** This package's version: package.json is two folders up from src/cli and dist/cli alike. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

/**
 * The program with the command `argv` runs fully defined, loading only that command's module;
 * for the top-level help, `--version` or an unknown command, every command by its summary.
 */
async function buildProgram(argv: string[], ctx: CliContext): Promise<Command> {
  const program = new Command()
    .name("atomic-etl")
    .description("Deploy JSON data releases into PostgreSQL through Prisma as one atomic unit.")
    .version(packageVersion(), "-V, --version", "print the version of atomic-etl")
    .exitOverride()
    .showHelpAfterError();
  const chosen = commandOf(argv);
  if (chosen) {
    (await chosen.load())(program, ctx);
    return program;
  }
  const terms = new Map(COMMANDS.map((c) => [c.name, c.term]));
  const help = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? help.subcommandTerm(cmd) });
  for (const c of COMMANDS) program.command(c.name).description(c.summary);
  return program;
}

/** Runs the CLI; resolves with the exit code. Errors are printed once, on stderr. */
export async function main(argv: string[] = process.argv): Promise<number> {
  // a reader that stops reading (`| head`) must not turn a committed run into a crash
  let stdoutOpen = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    stdoutOpen = false;
  });
  const ctx: CliContext = { logger: createLogger(), out: (t) => void (stdoutOpen && process.stdout.write(`${t}\n`)) };
  try {
    const program = await buildProgram(argv, ctx);
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    const err = e instanceof EtlError ? e : (connectError(e) ?? new EtlError("INTERNAL", (e as Error)?.stack ?? String(e)));
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
