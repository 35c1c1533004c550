/**
 * An in-memory pino destination for in-process runs: keeps every line and lets a test act
 * the moment a line is written (the logger writes synchronously, so the run is paused there).
 *
 * @example
 * const cap = captureLogs(); cap.on((l) => l.msg === "clear done", () => …);
 * new AtomicEtl(config, { logger: cap.logger });
 */
import type { Logger } from "pino";
import { createLogger } from "../../../src/reporting/logger.js";
import type { LogLine } from "./spawn-run.js";

export interface LogCapture {
  logger: Logger;
  lines: LogLine[];
  /** Calls `action` once, for the first line matching `match` from now on. */
  on(match: (l: LogLine) => boolean, action: (l: LogLine) => void): void;
  clear(): void;
}

export function captureLogs(): LogCapture {
  const lines: LogLine[] = [];
  let triggers: { match: (l: LogLine) => boolean; action: (l: LogLine) => void }[] = [];
  const destination = {
    write(raw: string) {
      for (const text of raw.split("\n").filter(Boolean)) {
        const line: LogLine = { ...(JSON.parse(text) as object), raw: text };
        lines.push(line);
        for (const t of [...triggers]) {
          if (t.match(line)) {
            triggers = triggers.filter((x) => x !== t);
            t.action(line);
          }
        }
      }
    },
  };
  return {
    logger: createLogger({ pretty: false, destination: destination as unknown as NodeJS.WritableStream }),
    lines,
    on(match, action) {
      triggers.push({ match, action });
    },
    clear() {
      lines.length = 0;
      triggers = [];
    },
  };
}
