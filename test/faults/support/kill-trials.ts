/**
 * kill -9 trials: a run importing the release the database does not hold is killed at a
 * seeded random point; afterwards the database must be exactly the old release, or exactly
 * the new one if (and only if) COMMIT had been sent; nothing may be left behind; and the
 * next run must succeed.
 *
 * Kill points: timed from the CLI's log lines (preflight, backup, clear, load, final phase,
 * validation, the fingerprints before the ledger row, the moment "ledger row written" or
 * "sending COMMIT" is read) or taken by the library driver itself (a few ms into a batch; a
 * few event-loop turns around COMMIT going out). After each, the ledger must agree with the
 * data (ledger-check.ts).
 */
import { type FaultBench, other } from "./fault-bench.js";
import { FAULT_CONFIG } from "./paths.js";
import { backupStarts, PHASE_GROUP, phaseAt, phaseWindows, type RunPhase } from "./run-phases.js";
import type { Rng } from "./seeded-random.js";
import { type SpawnedRun, spawnCli, spawnDriver } from "./spawn-run.js";
import { replaceStrategies } from "./strategies.js";
import { sleep } from "./fault-cluster.js";
import { RELEASE_FILES, type Variant } from "./release-fixture.js";
import type { SelfKill } from "./etl-driver.js";
import { ledgerAgrees, runIdOf } from "./ledger-check.js";

export const KILL_KINDS = [
  "preflight",
  "backup",
  "clear",
  "load",
  "batch",
  "apply",
  "validate",
  "ledger",
  "ledger-row",
  "commit",
  "commit-self",
] as const;
export type KillKind = (typeof KILL_KINDS)[number];

export interface TrialRecord {
  trial: number;
  kind: KillKind;
  strategy: string;
  release: Variant;
  detail: string;
  phase: RunPhase | "completed";
  commitSent: boolean;
  state: Variant | "partial";
  outcome: "before" | "after" | "partial";
  problems: string[];
}

export interface KillSummary {
  seed: number;
  trials: number;
  byKind: Record<string, number>;
  phasesHit: Record<string, number>;
  groupsHit: Record<string, number>;
  outcomes: Record<string, number>;
  partialStates: number;
  /** Trials whose database was the new release although COMMIT had not been sent (must be 0). */
  afterWithoutCommit: number;
  /** Trials whose ledger was checked against the data, and those where the two disagreed (must be 0). */
  ledger: { checked: number; disagreed: number; killedRunRows: Record<string, number> };
  problems: string[];
  records: TrialRecord[];
}

const START: Record<
  Exclude<KillKind, "batch" | "commit-self" | "commit" | "ledger-row">,
  (l: { msg?: string; [k: string]: unknown }) => boolean
> = {
  preflight: (l) => l.msg === "lock done",
  backup: backupStarts,
  clear: (l) => l.msg === "transaction open",
  load: (l) => l.msg === "clear done",
  apply: (l) => l.msg === "validate done" && !("checks" in l),
  validate: (l) => l.msg === "apply done",
  // the fingerprints after the load, taken in the commit gate before the ledger row
  ledger: (l) => l.msg === "validate done" && "checks" in l,
};

/** Kill points taken the moment their line is read, not after a delay. */
const AT_ONCE: Partial<Record<KillKind, (l: { msg?: string }) => boolean>> = {
  commit: (l) => l.msg === "sending COMMIT",
  "ledger-row": (l) => l.msg === "ledger row written",
};

/** A clean CLI import whose log times the phases of later runs; leaves the database on `release`. */
export async function calibrate(bench: FaultBench, release: Variant): Promise<Record<string, number>> {
  const run = spawnCli(["import", release, "--config", FAULT_CONFIG], bench.runEnv());
  const r = await run.done;
  if (r.code !== 0) throw new Error(`calibration run failed (${r.code}):\n${r.stderr.slice(-3000)}`);
  bench.current = release;
  return phaseWindows(r.lines);
}

export async function runKillTrials(
  bench: FaultBench,
  rng: Rng,
  trials: number,
  log: (s: string) => void = console.log,
  kinds: readonly KillKind[] = KILL_KINDS,
): Promise<KillSummary> {
  const windows = await calibrate(bench, other(bench.current));
  log(`[kill] phase windows (ms) from a calibration run: ${JSON.stringify(windows)}`);
  const strategies = replaceStrategies();
  const batchSize = Number(bench.runEnv().FAULT_BATCH_SIZE ?? 5000);
  const summary: KillSummary = {
    seed: rng.seed,
    trials: 0,
    byKind: {},
    phasesHit: {},
    groupsHit: {},
    outcomes: {},
    partialStates: 0,
    afterWithoutCommit: 0,
    ledger: { checked: 0, disagreed: 0, killedRunRows: {} },
    problems: [],
    records: [],
  };
  const offset = rng.int(0, kinds.length - 1);
  for (let i = 0; i < trials; i++) {
    const kind = kinds[(offset + i) % kinds.length] as KillKind;
    const strategy = rng.pick(strategies);
    const before = bench.current;
    const target = other(before);
    let run: SpawnedRun;
    let detail: string;
    if (kind === "batch" || kind === "commit-self") {
      let plan: SelfKill;
      if (kind === "batch") {
        const file = rng.pick(RELEASE_FILES);
        const table =
          "table" in file
            ? file.table
            : ({ League: "leagues", Team: "teams", Player: "players", Match: "matches", PlayerMatchStat: "player_match_stats" } as const)[
                file.model
              ];
        const batches = Math.max(1, Math.ceil((bench.counts[target][file.file] ?? 1) / batchSize));
        plan = { at: "batch", table, batch: rng.int(1, batches), delayMs: rng.int(0, 4) };
      } else {
        const hops = rng.int(-1, 4);
        plan = { at: "commit", hops, delayMs: hops < 0 ? 0 : rng.int(0, 2) };
      }
      detail = JSON.stringify(plan);
      run = spawnDriver(bench.runEnv({ FAULT_RELEASE: target, FAULT_SELF_KILL: detail, FAULT_STRATEGY: strategy }));
    } else {
      run = spawnCli(["import", target, "--config", FAULT_CONFIG, "--strategy", strategy], bench.runEnv());
      const atOnce = AT_ONCE[kind];
      const delay = atOnce ? 0 : Math.round(rng.next() * (windows[kind] ?? 0));
      detail = `${delay} ms after the line that starts ${kind}`;
      const start = atOnce ?? START[kind as keyof typeof START];
      run
        .waitFor(start)
        .then(async () => {
          if (delay) await sleep(delay);
          run.kill();
        })
        .catch(() => undefined);
    }
    const r = await run.done;
    const killed = r.signal === "SIGKILL";
    const commitSent = r.lines.some((l) => l.msg === "sending COMMIT");
    const phase: RunPhase | "completed" = killed ? phaseAt(r.lines, RELEASE_FILES.length) : "completed";
    const problems: string[] = [];
    if (!killed && r.code !== 0) problems.push(`the run failed on its own (exit ${r.code}): ${r.stderr.slice(-1500)}`);
    const seen = await bench.inspect();
    if (!seen.clean) problems.push(`left behind: ${JSON.stringify(seen.residue)}`);
    const outcome = seen.state === before ? "before" : seen.state === target ? "after" : "partial";
    if (outcome === "partial") {
      summary.partialStates++;
      problems.push(`PARTIAL STATE:\n${seen.diff.join("\n")}`);
    }
    if (outcome === "after" && !commitSent) {
      summary.afterWithoutCommit++;
      problems.push("the database holds the new release, but COMMIT was never sent");
    }
    if (outcome !== "partial") {
      const ledger = await ledgerAgrees(bench.url, { runId: runIdOf(r.lines), committed: outcome === "after" });
      summary.ledger.checked++;
      if (ledger.problems.length) summary.ledger.disagreed++;
      const key = ledger.outcomes.join("+") || "none";
      summary.ledger.killedRunRows[key] = (summary.ledger.killedRunRows[key] ?? 0) + 1;
      problems.push(...ledger.problems.map((p) => `LEDGER: ${p}`));
    }
    // the next run must succeed, whatever the kill left
    try {
      await bench.importClean(seen.state === "partial" ? before : other(seen.state));
    } catch (e) {
      problems.push(`the next run failed: ${(e as Error).message}`);
    }
    const rec: TrialRecord = {
      trial: i + 1,
      kind,
      strategy,
      release: target,
      detail,
      phase,
      commitSent,
      state: seen.state,
      outcome,
      problems,
    };
    summary.records.push(rec);
    summary.trials++;
    summary.byKind[kind] = (summary.byKind[kind] ?? 0) + 1;
    summary.phasesHit[phase] = (summary.phasesHit[phase] ?? 0) + 1;
    const group = phase === "completed" ? "completed" : PHASE_GROUP[phase];
    summary.groupsHit[group] = (summary.groupsHit[group] ?? 0) + 1;
    summary.outcomes[outcome] = (summary.outcomes[outcome] ?? 0) + 1;
    summary.problems.push(...problems.map((p) => `trial ${i + 1} (${kind}, ${detail}): ${p}`));
    log(
      `[kill] #${i + 1} ${kind.padEnd(11)} ${strategy} → ${target}: died in ${phase}${commitSent ? " (COMMIT sent)" : ""}; database = ${outcome}${problems.length ? ` — ${problems.length} problem(s)` : ""}  [${detail}]`,
    );
  }
  return summary;
}

/** The summary as printed at the end of a suite. */
export function formatKillSummary(s: KillSummary): string {
  return [
    `kill -9 trials: ${s.trials} (seed ${s.seed})`,
    `  kill points:   ${JSON.stringify(s.byKind)}`,
    `  died in:       ${JSON.stringify(s.phasesHit)}`,
    `  phase groups:  ${JSON.stringify(s.groupsHit)}`,
    `  database was:  ${JSON.stringify(s.outcomes)}`,
    `  ledger vs data: ${s.ledger.checked} checked, ${s.ledger.disagreed} disagreed; the killed run's ledger rows: ${JSON.stringify(s.ledger.killedRunRows)}`,
    `  partial states found: ${s.partialStates}; new release without COMMIT: ${s.afterWithoutCommit}; other problems: ${s.problems.length}`,
  ].join("\n");
}
