import type { Logger } from "pino";

/** What every command gets: the logger (stderr) and a writer for stdout (report, plans). */
export interface CliContext {
  logger: Logger;
  out: (text: string) => void;
}
