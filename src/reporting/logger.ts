import pino, { type Logger } from "pino";
import { prettyFactory } from "pino-pretty";
import { redactUrl } from "./redact.js";

export type { Logger } from "pino";

/**
 * The root logger: JSON lines on stderr, or pino-pretty when stderr is a TTY (or `pretty`).
 * Connection strings are redacted in every message and field. Pretty output leaves out the
 * run's final "failed" line: on a terminal the CLI prints that error once, in full.
 */
export function createLogger(opts: { level?: string; pretty?: boolean; destination?: { write(line: string): unknown } } = {}): Logger {
  const pretty = opts.pretty ?? (process.stderr.isTTY === true && !opts.destination);
  const base = {
    level: opts.level ?? process.env.ATOMIC_ETL_LOG_LEVEL ?? "info",
    redact: { paths: ["password", "*.password", "url", "*.url", "databaseUrl"], censor: "[redacted]" },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === "string" ? redactUrl(a) : a)),
        );
      },
    },
  };
  if (pretty) {
    const out = opts.destination ?? process.stderr;
    const prettify = prettyFactory({ colorize: process.stderr.isTTY === true, ignore: "pid,hostname" });
    return pino(base, { write: (line: string) => void (/"phase":"failed"/.test(line) || out.write(prettify(line))) });
  }
  // Synchronous: a line logged before COMMIT (with the txid) must survive a kill -9 right after it.
  return pino(base, (opts.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything (library use without logs). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
