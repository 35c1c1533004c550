/**
 * Reads a run's phase from its log: which phase was in progress when the last line was
 * written. Lines are written synchronously, so after a kill -9 the log is complete up to
 * the moment of death.
 *
 * @example phaseAt(lines) // "load"
 */
import type { LogLine } from "./spawn-run.js";

export type RunPhase =
  | "startup"
  | "lock"
  | "preflight"
  | "backup"
  | "begin"
  | "clear"
  | "load"
  | "validate"
  | "apply"
  | "checks"
  | "ledger"
  | "before-commit"
  | "ledger-row"
  | "commit"
  | "after-commit"
  | "failed";

/** The brief's vocabulary: preflight, backup, load, validation, final phase, commit. */
export const PHASE_GROUP: Record<RunPhase, string> = {
  startup: "preflight",
  lock: "preflight",
  preflight: "preflight",
  backup: "backup",
  begin: "load",
  clear: "load",
  load: "load",
  validate: "validation",
  apply: "final phase",
  checks: "validation",
  // the commit gate: the fingerprints after the load, the ledger row, the lock check, COMMIT
  ledger: "commit",
  "before-commit": "commit",
  "ledger-row": "commit",
  commit: "commit",
  "after-commit": "commit",
  failed: "failed",
};

/** The runner's own milestones; a strategy's lines (locks taken, indexes rebuilt …) fall between them. */
const MILESTONES = new Set([
  "preflight done",
  "lock done",
  "backup done",
  "transaction open",
  "cleared targets",
  "clear done",
  "batch",
  "load done",
  "validate done",
  "applied",
  "apply done",
  "ledger done",
  "ledger row written",
  "sending COMMIT",
  "committed",
  "pruned old backups",
]);

/**
 * The log line after which the backup runs: the catalog step of preflight (with a backup, its
 * manifest's fingerprints stand for preflight's, so no fingerprint line comes between).
 */
export const backupStarts = (l: { msg?: string; [k: string]: unknown }): boolean => l.msg === "preflight done" && "tables" in l;

export function phaseAt(lines: readonly LogLine[], tablesInRelease: number): RunPhase {
  const logged = lines.filter((l) => typeof l.msg === "string" && (MILESTONES.has(l.msg) || l.phase === "failed" || l.phase === "verify"));
  const last = logged.at(-1);
  if (!last) return "startup";
  const loads = logged.filter((l) => l.msg === "load done").length;
  switch (last.msg) {
    case "preflight done":
      if ("files" in last) return "lock";
      if (backupStarts(last) || "rows" in last) return "backup";
      return "preflight";
    case "lock done":
      return "preflight";
    case "backup done":
      return "begin";
    case "transaction open":
    case "cleared targets":
      return "clear";
    case "clear done":
    case "batch":
      return "load";
    case "load done":
      return loads >= tablesInRelease ? "validate" : "load";
    case "validate done":
      return "checks" in last ? "ledger" : "apply";
    case "ledger done":
      return "before-commit";
    case "ledger row written":
      return "ledger-row";
    case "applied":
      return "apply";
    case "apply done":
      return "checks";
    case "sending COMMIT":
      return "commit";
    case "committed":
    case "pruned old backups":
      return "after-commit";
    default:
      return "failed";
  }
}

/** Milliseconds between two logged moments of a finished run, for timing kills in later runs. */
export function phaseWindows(lines: readonly LogLine[]): Record<string, number> {
  const t = (pred: (l: LogLine) => boolean, last = false) => {
    const hits = lines.filter(pred);
    const l = last ? hits.at(-1) : hits[0];
    if (!l || typeof l.time !== "number") throw new Error("calibration run is missing a log line");
    return l.time;
  };
  const lockDone = t((l) => l.msg === "lock done");
  const preflightRows = t(backupStarts);
  const backupDone = t((l) => l.msg === "backup done");
  const txOpen = t((l) => l.msg === "transaction open");
  const clearDone = t((l) => l.msg === "clear done");
  const lastLoad = t((l) => l.msg === "load done", true);
  const validated = t((l) => l.msg === "validate done" && !("checks" in l));
  const applied = t((l) => l.msg === "apply done");
  const checked = t((l) => l.msg === "validate done" && "checks" in l);
  const fingerprinted = t((l) => l.msg === "ledger done");
  return {
    preflight: preflightRows - lockDone,
    backup: backupDone - preflightRows,
    clear: clearDone - txOpen,
    load: lastLoad - clearDone,
    apply: applied - validated,
    validate: checked - applied,
    ledger: fingerprinted - checked,
  };
}
