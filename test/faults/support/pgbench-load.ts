/**
 * Readers and writers from pgbench, running for a bounded time next to imports.
 * Readers fail (1/0) the moment a statement sees a state that is not one whole release.
 *
 * @example const r = await runPgbench(url, "readers.sql", { clients: 3, seconds: 8 });
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { findPgBinaries, pgToolPath } from "../../../tools/harness/pg-binaries.js";
import { libpqEnv } from "../../../src/backup/pg-tools.js";

export const PGBENCH_SCRIPTS = path.join(import.meta.dirname, "pgbench");

export interface PgbenchResult {
  code: number;
  stdout: string;
  stderr: string;
  /** "number of failed transactions" as pgbench reports it (null when absent). */
  failed: number | null;
  processed: number | null;
}

export async function runPgbench(
  url: string,
  script: string,
  o: { clients: number; seconds: number; vars?: Record<string, number> },
): Promise<PgbenchResult> {
  const pgbench = pgToolPath(await findPgBinaries(), "pgbench");
  const args = ["-n", "-c", String(o.clients), "-j", "1", "-T", String(o.seconds), "-f", path.join(PGBENCH_SCRIPTS, script)];
  for (const [k, v] of Object.entries(o.vars ?? {})) args.push("-D", `${k}=${v}`);
  return new Promise((resolve) => {
    execFile(
      pgbench,
      args,
      { env: { PATH: process.env.PATH ?? "", ...libpqEnv(url) }, timeout: (o.seconds + 120) * 1000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        const num = (re: RegExp) => {
          const m = re.exec(stdout);
          return m ? Number(m[1]) : null;
        };
        resolve({
          code,
          stdout,
          stderr,
          failed: num(/number of failed transactions: (\d+)/),
          processed: num(/number of transactions actually processed: (\d+)/),
        });
      },
    );
  });
}
