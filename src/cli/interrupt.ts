import { readFileSync } from "node:fs";
import type { Logger } from "pino";

/** How the CLI was asked to stop. */
export type StopSignal = "SIGINT" | "SIGTERM" | "parent gone";

export interface Interrupt {
  /** Aborted (with the {@link StopSignal} as its reason) when the run should stop at its next safe point. */
  signal: AbortSignal;
  /** The phase the run is in, for the second Ctrl-C's answer. */
  phase(name: string): void;
  dispose(): void;
}

/**
 * SIGINT and SIGTERM stop a run at its next safe point: between phases, between batches, or
 * before COMMIT is decided. The run then rolls back and proves what happened to the data,
 * like any failure, so the process never exits with the database undetermined. A second
 * signal only says what is still being waited on.
 *
 * Under npx, a kill -9 of npx cannot be forwarded to this process: the run notices its
 * parent is gone (npm sets npm_command=exec) and stops the same way. npm runs the bin through
 * `sh -c`, and a shell that stays (dash, Debian's and Ubuntu's /bin/sh) outlives npx as our
 * parent: there (on Linux, through /proc) the shell's own parent, npx, is watched too.
 */
export function installInterrupt(log: Logger, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Interrupt {
  const controller = new AbortController();
  let phase = "starting";
  const stop = (why: StopSignal) => {
    if (controller.signal.aborted) {
      write(
        `atomic-etl: still ${phase}; stopping at the next safe point, then rolling back and proving the database unchanged (nothing is left half-done)`,
      );
      return;
    }
    log.warn({ phase: "interrupt", signal: why, during: phase }, "stop requested: the run stops at its next safe point and rolls back");
    write(
      `atomic-etl: ${why === "parent gone" ? "the parent process (npx) is gone" : `${why} received`}; stopping at the next safe point (${phase}), then rolling back`,
    );
    controller.abort(why);
  };
  const onInt = () => stop("SIGINT");
  const onTerm = () => stop("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  const parent = process.ppid;
  const underNpx = process.env.npm_command === "exec";
  const npx = underNpx && SHELLS.has(commOf(parent) ?? "") ? parentOf(parent) : null;
  const gone = () => process.ppid !== parent || (npx !== null && parentOf(parent) !== npx);
  const watch: NodeJS.Timeout | null = underNpx
    ? setInterval(() => {
        if (!gone()) return;
        clearInterval(watch as NodeJS.Timeout); // once: a second stop() would print "still …" every tick
        stop("parent gone");
      }, 500)
    : null;
  watch?.unref();
  return {
    signal: controller.signal,
    phase: (name) => {
      phase = name;
    },
    dispose() {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      if (watch) clearInterval(watch);
    },
  };
}

/** Shells npm may run the bin through (`sh -c`), which then stand between npx and this process. */
const SHELLS = new Set(["sh", "dash", "bash", "zsh", "ash", "ksh"]);

/** The command name of `pid` (Linux /proc), or null where it cannot be read. */
function commOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return null;
  }
}

/** The parent pid of `pid` (Linux /proc), or null where it cannot be read (or `pid` is gone). */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}
