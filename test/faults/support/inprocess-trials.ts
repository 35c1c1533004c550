/**
 * Fault trials on an in-process run: the fault (server crash, terminated backend) fires at a
 * seeded random point, found through the run's hooks or the moment a log line is written.
 * Afterwards the database must be exactly the old release (the fault always lands before
 * COMMIT could complete, or the run resolves it), nothing may be left behind, and the next
 * run must succeed.
 */
import type { RunHooks } from "../../../src/atomic-etl.js";
import { RunFailed } from "../../../src/atomic-etl.js";
import type { RunReport } from "../../../src/reporting/report.js";
import type { EnvironmentSettings } from "../../../src/config/environments.js";
import { type FaultBench, other } from "./fault-bench.js";
import { sleep } from "./fault-cluster.js";
import { captureLogs, type LogCapture } from "./log-capture.js";
import { backupStarts, PHASE_GROUP, phaseAt, phaseWindows, type RunPhase } from "./run-phases.js";
import { RELEASE_FILES, type Variant } from "./release-fixture.js";
import type { Rng } from "./seeded-random.js";
import type { LogLine } from "./spawn-run.js";
import { ledgerAgrees, runIdOf } from "./ledger-check.js";

export const FAULT_POINTS = ["backup", "clear", "load", "apply", "validate", "ledger", "before-commit", "preflight"] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

const START: Partial<Record<FaultPoint, (l: LogLine) => boolean>> = {
  preflight: (l) => l.msg === "lock done",
  backup: backupStarts,
  clear: (l) => l.msg === "transaction open",
  apply: (l) => l.msg === "validate done" && !("checks" in l),
  validate: (l) => l.msg === "apply done",
  ledger: (l) => l.msg === "validate done" && "checks" in l,
};

export interface FaultContext {
  bench: FaultBench;
  point: FaultPoint;
  logs: LogCapture;
}

export interface InProcessTrial {
  trial: number;
  point: FaultPoint;
  detail: string;
  phase: RunPhase;
  txid: string | null;
  code: string | null;
  data: string | null;
  state: Variant | "partial";
  problems: string[];
}

export interface InProcessSummary {
  seed: number;
  trials: number;
  byPoint: Record<string, number>;
  phasesHit: Record<string, number>;
  groupsHit: Record<string, number>;
  codes: Record<string, number>;
  tags: Record<string, number>;
  partialStates: number;
  /** Trials whose ledger was checked against the data, those where they disagreed (must be 0), and the run's own rows. */
  ledger: { checked: number; disagreed: number; runRows: Record<string, number> };
  problems: string[];
  records: InProcessTrial[];
}

export interface TrialSpec {
  label: string;
  /** Settings of the runs (e.g. retries: 0). */
  local: Partial<EnvironmentSettings>;
  /** Starts the fault; the returned promise settles when it has fully happened. */
  fire(ctx: FaultContext): Promise<void>;
  /** After the run settled and the fault completed: bring the server back etc. */
  recover?(ctx: FaultContext): Promise<void>;
  /** Checks specific to the fault: problems, and tags counted in the summary. */
  check(
    ctx: FaultContext & { report: RunReport; error: RunFailed | null; txid: string | null },
  ): Promise<{ problems: string[]; tags?: string[] }>;
}

/** Phase windows of an in-process run, for timing faults. */
async function calibrate(bench: FaultBench, local: Partial<EnvironmentSettings>): Promise<Record<string, number>> {
  const logs = captureLogs();
  const release = other(bench.current);
  await bench.etl({ logger: logs.logger, local }).import({ release, url: bench.url });
  bench.current = release;
  return phaseWindows(logs.lines);
}

export async function runInProcessTrials(
  bench: FaultBench,
  rng: Rng,
  trials: number,
  spec: TrialSpec,
  log: (s: string) => void = console.log,
): Promise<InProcessSummary> {
  const windows = await calibrate(bench, spec.local);
  log(`[${spec.label}] phase windows (ms): ${JSON.stringify(windows)}`);
  const batchSize = Number(bench.runEnv().FAULT_BATCH_SIZE ?? 5000);
  const summary: InProcessSummary = {
    seed: rng.seed,
    trials: 0,
    byPoint: {},
    phasesHit: {},
    groupsHit: {},
    codes: {},
    tags: {},
    partialStates: 0,
    ledger: { checked: 0, disagreed: 0, runRows: {} },
    problems: [],
    records: [],
  };
  const offset = rng.int(0, FAULT_POINTS.length - 1);
  for (let i = 0; i < trials; i++) {
    const point = FAULT_POINTS[(offset + i) % FAULT_POINTS.length] as FaultPoint;
    const before = bench.current;
    const target = other(before);
    const logs = captureLogs();
    const ctx: FaultContext = { bench, point, logs };
    let fault: Promise<void> | null = null;
    const fire = () => {
      fault ??= spec.fire(ctx);
      return fault;
    };
    const hooks: RunHooks = {};
    let detail: string;
    if (point === "load") {
      const file = rng.pick(RELEASE_FILES);
      const table =
        "table" in file
          ? file.table
          : ({ League: "leagues", Team: "teams", Player: "players", Match: "matches", PlayerMatchStat: "player_match_stats" } as const)[
              file.model
            ];
      const batch = rng.int(1, Math.max(1, Math.ceil((bench.counts[target][file.file] ?? 1) / batchSize)));
      const wait = rng.next() < 0.5;
      const delayMs = rng.int(0, 3);
      detail = `after batch ${batch} of ${table}, ${wait ? "awaited" : `${delayMs} ms into the next statement`}`;
      hooks.afterBatch = async (e) => {
        if (e.table !== table || e.batch !== batch) return;
        if (wait) await fire();
        else setTimeout(() => void fire(), delayMs);
      };
    } else if (point === "before-commit") {
      detail = "in beforeCommit, awaited";
      hooks.beforeCommit = async () => {
        await fire();
      };
    } else {
      const delay = Math.round(rng.next() * (windows[point] ?? 0));
      detail = `${delay} ms after the line that starts ${point}`;
      logs.on(START[point] as (l: LogLine) => boolean, () => {
        setTimeout(() => void fire(), delay);
      });
    }
    let report: RunReport;
    let error: RunFailed | null = null;
    try {
      report = await bench.etl({ logger: logs.logger, local: spec.local }).import({ release: target, url: bench.url, hooks });
    } catch (e) {
      if (!(e instanceof RunFailed)) throw e;
      error = e;
      report = e.report;
    }
    const fired = fault !== null;
    if (fault) await fault;
    await spec.recover?.(ctx);
    const txid = (logs.lines.find((l) => l.msg === "transaction open")?.txid as string | undefined) ?? null;
    const phase = phaseAt(
      logs.lines.filter((l) => l.phase !== "failed" && l.phase !== "verify" && l.phase !== "retry"),
      RELEASE_FILES.length,
    );
    const problems: string[] = [];
    if (fired) {
      const c = await spec.check({ ...ctx, report, error, txid });
      problems.push(...c.problems);
      for (const t of c.tags ?? []) summary.tags[t] = (summary.tags[t] ?? 0) + 1;
    } else if (error) problems.push(`the run failed without a fault: ${error.error.describe()}`);
    const seen = await bench.inspect();
    if (!seen.clean) problems.push(`left behind: ${JSON.stringify(seen.residue)}`);
    const expected = report.outcome === "committed" ? target : before;
    if (seen.state === "partial") {
      summary.partialStates++;
      problems.push(`PARTIAL STATE:\n${seen.diff.join("\n")}`);
    } else if (seen.state !== expected) {
      problems.push(`the report says ${report.outcome} but the database holds release ${seen.state}`);
    }
    if (seen.state !== "partial") {
      const ledger = await ledgerAgrees(bench.url, { runId: runIdOf(logs.lines), committed: seen.state === target });
      summary.ledger.checked++;
      if (ledger.problems.length) summary.ledger.disagreed++;
      const key = ledger.outcomes.join("+") || "none";
      summary.ledger.runRows[key] = (summary.ledger.runRows[key] ?? 0) + 1;
      problems.push(...ledger.problems.map((p) => `LEDGER: ${p}`));
    }
    if (seen.state !== "partial") bench.current = seen.state;
    try {
      await bench.importClean(other(bench.current));
    } catch (e) {
      problems.push(`the next run failed: ${(e as Error).message}`);
    }
    const code = error?.error.code ?? null;
    summary.records.push({ trial: i + 1, point, detail, phase, txid, code, data: error?.error.data ?? null, state: seen.state, problems });
    summary.trials++;
    summary.byPoint[point] = (summary.byPoint[point] ?? 0) + 1;
    summary.phasesHit[phase] = (summary.phasesHit[phase] ?? 0) + 1;
    summary.groupsHit[PHASE_GROUP[phase]] = (summary.groupsHit[PHASE_GROUP[phase]] ?? 0) + 1;
    summary.codes[code ?? report.outcome] = (summary.codes[code ?? report.outcome] ?? 0) + 1;
    summary.problems.push(...problems.map((p) => `trial ${i + 1} (${point}, ${detail}): ${p}`));
    log(
      `[${spec.label}] #${i + 1} ${point.padEnd(13)} → ${target}: hit ${phase}; ${code ?? report.outcome}${error ? ` (${error.error.data})` : ""}; database = ${seen.state === before ? "before" : seen.state === target ? "after" : "PARTIAL"}${problems.length ? ` — ${problems.join(" | ").slice(0, 600)}` : ""}  [${detail}]`,
    );
  }
  return summary;
}

export function formatInProcessSummary(label: string, s: InProcessSummary): string {
  return [
    `${label} trials: ${s.trials} (seed ${s.seed})`,
    `  fault points:  ${JSON.stringify(s.byPoint)}`,
    `  hit phases:    ${JSON.stringify(s.phasesHit)}`,
    `  phase groups:  ${JSON.stringify(s.groupsHit)}`,
    `  results:       ${JSON.stringify(s.codes)}`,
    `  observed:      ${JSON.stringify(s.tags)}`,
    `  ledger vs data: ${s.ledger.checked} checked, ${s.ledger.disagreed} disagreed; the run's own ledger rows: ${JSON.stringify(s.ledger.runRows)}`,
    `  partial states found: ${s.partialStates}; other problems: ${s.problems.length}`,
  ].join("\n");
}

export { sleep };
