import { connectError, isConnectionLoss, pgErrorInfo } from "../db/pg-errors.js";
import type { PrismaClientLike } from "../db/prisma-like.js";
import { type ErrorCode, EtlError, type Step } from "../errors.js";
import type { TablePlan } from "../planner/table-plan.js";
import { OrphanFound } from "../strategies/bulk-rebuild.js";
import { diagnoseBatchFailure, diagnoseLateOrphan, diagnoseOrphanFound } from "./diagnose.js";
import { pinToCopyLine } from "./copy-line.js";
import { constraintError, diagnoseLateConstraint } from "./diagnose-constraint.js";
import { locateRefusal } from "./diagnose-staged.js";
import { RecordRefusal } from "../validation/record-refusal.js";
import { BatchInsertFailure } from "./load.js";

/** What classifying a failure may use: where it happened, and (after the rollback) the files and a connection. */
export interface FailureContext {
  runId: string;
  step: Step;
  commitSent: boolean;
  /** The release's tables by name, to name the record behind a refused batch. */
  tables: ReadonlyMap<string, TablePlan>;
  /** The run's client, after the rollback: to ask the untouched parent tables which keys they lack, or replay a refused batch. */
  db: PrismaClientLike | null;
  /** The database as people may see it (host, port, user, database; never the password), for connection errors. */
  where?: string;
}

/** Timeouts by what reports them: Prisma's interactive-transaction timer, or the server. */
const TIMEOUTS: readonly { prismaCode?: string; sqlstate?: string; code: ErrorCode; what: string; next: string }[] = [
  {
    prismaCode: "P2028",
    code: "TRANSACTION_TIMEOUT",
    what: "the transaction timed out",
    next: "raise transactionTimeoutMs for this environment, or load less per release",
  },
  {
    sqlstate: "57014",
    code: "STATEMENT_TIMEOUT",
    what: "a statement hit statement_timeout",
    next: "raise statementTimeoutMs, or lower the batch size",
  },
  {
    sqlstate: "55P03",
    code: "LOCK_TIMEOUT",
    what: "could not take a lock within lock_timeout",
    next: "find the long-running session holding the table (pg_stat_activity) and retry",
  },
];

/**
 * Maps whatever a run threw to an {@link EtlError} with a stable code, the step, and the run
 * id; a refused batch is traced back to the record (file, index, field, value) behind it.
 */
export async function classifyFailure(raw: unknown, ctx: FailureContext): Promise<EtlError> {
  const e = await classify(raw, ctx);
  return e.runId === ctx.runId && e.step !== undefined ? e : e.with({ runId: ctx.runId, step: e.step ?? ctx.step });
}

async function classify(raw: unknown, ctx: FailureContext): Promise<EtlError> {
  // A batch cut short by a lost connection, a timeout or a deadlock failed for that reason,
  // not because of its records: classify the cause instead of diagnosing the records.
  if (raw instanceof BatchInsertFailure) {
    const c = pgErrorInfo(raw.cause);
    if (!c.sqlstate || /^(08|40|57|55P03)/.test(c.sqlstate) || isConnectionLoss(raw.cause)) return classify(raw.cause, ctx);
    // a COPY refused as read-only: Prisma's timer closed the transaction and the session is back to its read-only default
    if (c.sqlstate === "25006") {
      const t = TIMEOUTS[0] as (typeof TIMEOUTS)[number];
      return new EtlError(t.code, `${t.what} before this batch's COPY: ${c.message}`, { step: "load", cause: raw.cause, next: t.next });
    }
    if (ctx.db) {
      const named = await constraintError(ctx.db, raw.source, raw.rows, raw.firstIndex, raw.cause, "load", raw.record).catch(() => null);
      if (named) return named;
      const diagnosed = await diagnoseBatchFailure(raw, ctx.db, ctx.tables).catch((d: unknown) =>
        d instanceof EtlError
          ? d
          : new EtlError("SQL_ERROR", pgErrorInfo(raw.cause).message, { step: "load", table: raw.source.info.name, cause: raw.cause }),
      );
      return pinToCopyLine(diagnosed, raw);
    }
  }
  if (raw instanceof OrphanFound) return diagnoseOrphanFound(raw, ctx.tables);
  if (raw instanceof RecordRefusal) return locateRefusal(raw, ctx.tables, ctx.db).catch(() => raw);
  if (raw instanceof EtlError) return raw;
  // an FK checked after the batches (self-reference moved in the final phase, deferred to COMMIT): name the record
  if (ctx.db && !(raw instanceof BatchInsertFailure)) {
    const late =
      (await diagnoseLateOrphan(raw, ctx.step, ctx.tables).catch(() => null)) ??
      (await diagnoseLateConstraint(raw, ctx.step, ctx.db, ctx.tables).catch(() => null));
    if (late) return late;
  }
  const info = pgErrorInfo(raw);
  const meta = { sqlstate: info.sqlstate, prismaCode: info.prismaCode, detail: info.detail, hint: info.hint };
  const step = ctx.step;
  // the run's first connection is the lock's (a plan's, in preflight): a failure there is a connection that never was, not one lost
  const first = step === "lock" || step === "config" || step === "preflight" ? connectError(raw, ctx.where, { step, meta }) : null;
  if (first) return first;
  const timeout = TIMEOUTS.find((t) => (t.prismaCode ? info.prismaCode === t.prismaCode : info.sqlstate === t.sqlstate));
  if (timeout) return new EtlError(timeout.code, `${timeout.what}: ${info.message}`, { step, cause: raw, meta, next: timeout.next });
  if (isConnectionLoss(raw))
    return new EtlError(ctx.commitSent ? "COMMIT_IN_DOUBT" : "CONNECTION_LOST", `the database connection was lost: ${info.message}`, {
      step,
      cause: raw,
      meta,
    });
  if (info.sqlstate) return new EtlError("SQL_ERROR", `${info.message} (SQLSTATE ${info.sqlstate})`, { step, cause: raw, meta });
  if (step === "load" || step === "validate" || step === "commit") {
    return new EtlError("HOOK_FAILED", `the run failed in ${step}: ${(raw as Error)?.message ?? String(raw)}`, { step, cause: raw });
  }
  return new EtlError("INTERNAL", (raw as Error)?.message ?? String(raw), { step, cause: raw });
}
