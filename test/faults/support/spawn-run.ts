/**
 * Spawns an atomic-etl run as a real OS process (the CLI, or the library driver) and
 * follows its JSON log lines on stderr, so a test can kill it at a chosen moment.
 *
 * @example
 * const run = spawnCli(["import", "A", "--config", CONFIG], env);
 * await run.waitFor((l) => l.msg === "sending COMMIT"); run.kill();
 */
import { type ChildProcess, spawn } from "node:child_process";
import { CLI, DRIVER, REPO_ROOT } from "./paths.js";

/** One pino line (or `{ raw }` when a line is not JSON). */
export interface LogLine {
  msg?: string;
  phase?: string;
  txid?: string;
  time?: number;
  raw: string;
  [k: string]: unknown;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: LogLine[];
}

export interface SpawnedRun {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Log lines read so far. */
  readonly lines: LogLine[];
  /** Resolves with the first line (seen so far or later) matching; rejects if the process exits first. */
  waitFor(match: (l: LogLine) => boolean): Promise<LogLine>;
  /** SIGKILL (kill -9). */
  kill(): void;
  /** Resolves once the process exited and its output was read to the end. */
  done: Promise<RunResult>;
}

function follow(child: ChildProcess): SpawnedRun {
  const lines: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void; reject: (e: Error) => void }[] = [];
  let stdout = "";
  let stderr = "";
  let partial = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf("\n")) >= 0) {
      const raw = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      let line: LogLine;
      try {
        line = { ...(JSON.parse(raw) as object), raw };
      } catch {
        line = { raw };
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  const done = new Promise<RunResult>((resolve) => {
    child.on("close", (code, signal) => {
      for (const w of waiters.splice(0))
        w.reject(new Error(`process exited (${code ?? signal}) before the awaited log line; stderr:\n${stderr.slice(-2000)}`));
      resolve({ code, signal, stdout, stderr, lines });
    });
  });
  return {
    child,
    pid: child.pid as number,
    lines,
    waitFor(match) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error("process already exited"));
      return new Promise((resolve, reject) => waiters.push({ match, resolve, reject }));
    },
    kill() {
      child.kill("SIGKILL");
    },
    done,
  };
}

const childEnv = (env: Record<string, string>) => ({ ...process.env, ATOMIC_ETL_LOG_LEVEL: "info", ...env });

/** `node --import tsx src/cli/main.ts …args` with `env` added to ours. */
export function spawnCli(args: string[], env: Record<string, string>, opts: { uid?: number; gid?: number } = {}): SpawnedRun {
  return follow(
    spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
      cwd: REPO_ROOT,
      env: childEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
      ...opts,
    }),
  );
}

/** The library driver (etl-driver.ts): the run's hooks log markers and can kill the process itself. */
export function spawnDriver(env: Record<string, string>): SpawnedRun {
  return follow(
    spawn(process.execPath, ["--import", "tsx", DRIVER], { cwd: REPO_ROOT, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] }),
  );
}
