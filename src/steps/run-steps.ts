import type { Logger } from "pino";
import { isConnectionLoss, pgErrorInfo } from "../db/pg-errors.js";
import type { TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import type { TablePlan } from "../planner/table-plan.js";
import { BatchInsertFailure } from "../runner/load.js";
import type { MemoryBudget } from "../runner/memory-budget.js";
import type { PhaseClock } from "../runner/phase.js";
import type { RunPlan } from "../runner/plan.js";
import { stopIfAsked } from "../runner/interrupted.js";
import { stepLoad } from "./step-load.js";
import type { BoundStep, BoundSteps } from "./targets.js";
import type { StepLoadResult } from "./types.js";
import { refuseUndeclared, snapshotWrites, undeclaredWrites } from "./write-audit.js";

/** Failures that are the run's, not the step's: classified as they are (a lost connection is retried, a timeout named). */
const TIMEOUT_STATES = new Set(["57014", "55P03", "40P01", "40001"]);

/**
 * Runs the release's steps at their declared positions, inside the run's transaction:
 * `before` the clear and the file loads, `{ after: table }` once that table's file is
 * loaded, `after` once every file is applied (before the checks). Each step's writes are
 * audited against its `writes` right after it returns (see write-audit.ts). A plan runs no
 * steps: it cannot know what their code would write.
 */
export class StepRunner {
  constructor(
    private readonly tx: TxLike,
    private readonly plan: RunPlan,
    private readonly bound: BoundSteps,
    private readonly clock: PhaseClock,
    private readonly memory: MemoryBudget,
    private readonly log: Logger,
  ) {
    if (plan.mode === "plan" && bound.steps.length)
      log.warn({ phase: "step", steps: bound.steps.length }, "a plan does not run the release's steps: their writes are not in it");
  }

  /** The steps declared at `at`: "before", "after", or after the file of `table`. */
  async run(at: "before" | "after" | TablePlan): Promise<void> {
    if (this.plan.mode === "plan") return;
    for (const s of this.bound.steps) if (isAt(s, at)) await this.runOne(s);
  }

  private async runOne(s: BoundStep): Promise<void> {
    const { name } = s.config;
    const declared = [...s.writes.keys()];
    const loads: StepLoadResult[] = [];
    await this.clock.run(
      "step",
      async () => {
        const before = await snapshotWrites(this.tx);
        try {
          await s.config.run({
            tx: this.tx,
            load: async (table, records) => {
              const r = await stepLoad(this.loadInput(s), table, records);
              loads.push(r);
              return r;
            },
            log: this.log.child({ stepName: name }),
            env: this.plan.target.env,
            release: this.plan.release,
            signal: this.plan.signal,
          });
        } catch (e) {
          throw stepFailure(name, e);
        }
        stopIfAsked(this.plan.signal, "step");
        // a step that swallowed a failed statement left the transaction aborted: the step's failure
        const after = await snapshotWrites(this.tx).catch((e: unknown) => {
          throw stepFailure(name, e);
        });
        refuseUndeclared(name, undeclaredWrites(before, after, { schema: this.plan.schema, tables: new Set(declared) }), declared);
      },
      () => ({ stepName: name, writes: declared, loaded: loads.reduce((n, l) => n + l.rows, 0), loads: loads.length }),
    );
  }

  private loadInput(step: BoundStep) {
    return {
      tx: this.tx,
      step,
      batchSize: this.plan.batchSize ?? this.plan.target.settings.batchSize,
      maxBatchBytes: this.plan.target.settings.maxBatchBytes,
      memory: this.memory,
      onBatch: () => stopIfAsked(this.plan.signal, "step"),
    };
  }
}

function isAt(s: BoundStep, at: "before" | "after" | TablePlan): boolean {
  const pos = s.config.at;
  if (typeof at === "string") return pos === at;
  return typeof pos === "object" && (pos.after === at.name || pos.after === at.mapping.model);
}

/**
 * What a step's exception becomes: STEP_FAILED naming the step, with its message and cause.
 * atomic-etl's own errors (a record `load()` refused, a stop request) keep their code and
 * gain the step's name; a refused batch, a lost connection or a timeout are left to the
 * run's classification, which names them better.
 */
export function stepFailure(name: string, e: unknown): unknown {
  if (e instanceof EtlError) return e.with({ step: e.step === "load" ? "step" : e.step, meta: { stepName: name } });
  if (e instanceof BatchInsertFailure || isConnectionLoss(e)) return e;
  const info = pgErrorInfo(e);
  if ((info.sqlstate && TIMEOUT_STATES.has(info.sqlstate)) || info.prismaCode === "P2028") return e;
  const message = e instanceof Error ? e.message : String(e);
  return new EtlError("STEP_FAILED", `step "${name}" failed: ${message}`, {
    step: "step",
    cause: e,
    meta: { stepName: name, sqlstate: info.sqlstate, prismaCode: info.prismaCode },
    next: `fix the step "${name}" (its error is the cause); nothing of this run was kept`,
  });
}
