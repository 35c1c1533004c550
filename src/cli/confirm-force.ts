import { createInterface } from "node:readline";
import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import { databaseNameOf, resolveTarget } from "../config/target.js";
import { EtlError } from "../errors.js";

/** The terminal a confirmation is asked on: stdin, and stderr (stdout stays the report's). */
export interface TerminalIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * `--force`, or on an interactive terminal the typed name of the database: an environment
 * that requires --force (production, and every environment that extends it) asks the person
 * at the terminal to type the database's name, and goes on as if --force was given when it
 * matches; a wrong name (or Ctrl-C, or end of input) is CONFIRMATION_REFUSED, before
 * anything connected. Off a terminal (CI, pipes) nothing is asked: the command refuses with
 * PRODUCTION_REQUIRES_FORCE as before. Returns the `force` to run with.
 *
 * @example const force = await forceOrConfirm(config, o, "run", log)
 */
export async function forceOrConfirm(
  config: LoadedConfig,
  o: { env?: string; force?: boolean },
  danger: string,
  log: Logger,
  io: TerminalIo = { input: process.stdin, output: process.stderr },
): Promise<boolean | undefined> {
  if (o.force || io.input.isTTY !== true || io.output.isTTY !== true) return o.force;
  let target;
  try {
    target = resolveTarget(config, { env: o.env, force: true, danger });
  } catch {
    return o.force; // the command itself refuses, with the same error
  }
  if (!target.settings.requireForce) return o.force;
  const database = databaseNameOf(target.url);
  const answer = await ask(
    io,
    `DANGER: this will ${danger} in ${target.env}, database "${database}" on ${target.host}.\nType the database name to confirm (or run with --force): `,
  );
  if (answer !== database) {
    throw new EtlError(
      "CONFIRMATION_REFUSED",
      answer === null
        ? `${target.env}: no database name was typed; nothing was touched`
        : `${target.env}: the name typed is not the database's ("${database}"); nothing was touched`,
      { step: "config", next: `re-run and type ${database} exactly, or pass --force`, meta: { env: target.env, database } },
    );
  }
  log.info({ phase: "config", env: target.env, database, confirmedBy: "terminal" }, "confirmed on the terminal");
  return true;
}

/** One line from the terminal; null on Ctrl-C or end of input. */
function ask(io: TerminalIo, prompt: string): Promise<string | null> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: io.input, output: io.output, terminal: true });
    let done = false;
    const finish = (answer: string | null) => {
      if (done) return;
      done = true;
      if (answer === null) io.output.write("\n");
      rl.close();
      resolve(answer);
    };
    rl.on("SIGINT", () => finish(null));
    rl.on("close", () => finish(null));
    rl.question(prompt, (a) => finish(a.trim()));
  });
}
