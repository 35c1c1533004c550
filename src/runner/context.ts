import type { Logger } from "pino";
import type { HeldLock } from "../db/advisory-lock.js";
import type { PrismaClientLike } from "../db/prisma-like.js";
import type { LedgerRow } from "../ledger/ledger-row.js";
import type { RunReport } from "../reporting/report.js";
import { runUrl, takeRunLock } from "./lock.js";
import type { MemoryBudget } from "./memory-budget.js";
import type { PhaseClock } from "./phase.js";
import type { RunPlan } from "./plan.js";
import type { RetryPolicy } from "./retry.js";

/** What every phase of one run shares: the plan, its log, its clock and its report. */
export interface RunContext {
  plan: RunPlan;
  log: Logger;
  clock: PhaseClock;
  report: RunReport;
  memory: MemoryBudget;
  retry: RetryPolicy;
  /** The URL of the run's own connections (tagged with the run id). */
  url: string;
  started: number;
  /**
   * The run's ledger row as far as it is known, once the ledger exists (an import, after its
   * lock): what a failure records after the rollback. Null for a plan, and before the lock.
   */
  ledgerRow: LedgerRow | null;
}

/** The run's two sessions: the Prisma client and the run lock (none for a plan), renewed together when a retry needs it. */
export class Sessions {
  constructor(
    private readonly plan: RunPlan,
    public client: PrismaClientLike,
    public lock: HeldLock | null,
  ) {}

  async renew(): Promise<void> {
    await this.client.$disconnect().catch(() => undefined);
    this.client = await this.plan.client({ url: runUrl(this.plan) });
    if (!this.lock) return;
    // a restarted server dropped the lock with its session: take it again
    await this.lock.release().catch(() => undefined);
    this.lock = await takeRunLock(this.plan);
  }

  async close(): Promise<void> {
    await this.client.$disconnect().catch(() => undefined);
    await this.lock?.release().catch(() => undefined);
  }
}
