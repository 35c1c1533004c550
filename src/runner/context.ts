import type { Logger } from "pino";
import type { HeldLock } from "../db/advisory-lock.js";
import type { PrismaClientLike } from "../db/prisma-like.js";
import { ToolClient } from "../db/tool-client.js";
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

/**
 * The run's two sessions: the Prisma client (over the tool's pool, see {@link ToolClient})
 * and the run lock (none for a plan), renewed together when a retry needs it.
 */
export class Sessions {
  constructor(
    private readonly plan: RunPlan,
    private tool: ToolClient,
    public lock: HeldLock | null,
  ) {}

  get client(): PrismaClientLike {
    return this.tool.client;
  }

  /** Whether the transaction loads by COPY. */
  get copy(): boolean {
    return this.tool.copy;
  }

  async renew(): Promise<void> {
    const copy = this.tool.copy;
    await this.tool.close();
    this.tool = await ToolClient.create(this.plan.client, runUrl(this.plan));
    // the same factory: COPY stays as the first client found it (its one log line said so)
    if (copy) await this.tool.enableCopy();
    if (!this.lock) return;
    // a restarted server dropped the lock with its session: take it again
    await this.lock.release().catch(() => undefined);
    this.lock = await takeRunLock(this.plan);
  }

  async close(): Promise<void> {
    await this.tool.close();
    await this.lock?.release().catch(() => undefined);
  }
}
