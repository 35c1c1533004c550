import type { Logger } from "pino";
import { pruneBackups } from "../backup/retention.js";
import { recordRun } from "../ledger/record.js";
import { failedRow } from "../ledger/run-row.js";
import { planHash } from "../plan/plan-hash.js";
import { newReport, type RunReport, RunFailed, withTiming } from "../reporting/report.js";
import { type BeforeState, markOutcome } from "./backup.js";
import { classifyFailure } from "./classify.js";
import type { RunContext } from "./context.js";
import { PlannedRollback, type PlanResult } from "./decide.js";
import { runUrl } from "./lock.js";
import { MemoryBudget } from "./memory-budget.js";
import { asInterruption, stopIfAsked } from "./interrupted.js";
import { PhaseClock } from "./phase.js";
import type { RunPlan } from "./plan.js";
import { type Prepared, prepare } from "./prepare.js";
import { isRetryable, withRetries } from "./retry.js";
import { type Settled, settle } from "./settle.js";
import { runTransaction, TransactionFailed, type TransactionResult } from "./transaction.js";
import { everyTarget } from "../steps/targets.js";

/**
 * One run, phase by phase: preflight (files) → lock → catalog → one-database check →
 * backup (or fingerprints) → the one transaction (re-run whole after a connection lost
 * before COMMIT) → retention. On failure: classify, settle (prove what happened to the
 * data), record it in the ledger, and reject with {@link RunFailed} carrying the report.
 *
 * The same path serves a plan (`plan.mode === "plan"`): no lock, no backup, TEMP staging
 * only, and a ROLLBACK at the commit gate that comes back here as a success report. An
 * import with nothing to do (see redeploy.ts) resolves before its backup and transaction.
 */
export async function runRelease(plan: RunPlan, log: Logger): Promise<RunReport> {
  const { settings } = plan.target;
  const ctx: RunContext = {
    plan,
    log,
    report: newReport(plan),
    clock: new PhaseClock(log, {}, plan.hooks.onPhase, plan.signal),
    memory: new MemoryBudget(settings.memoryBudgetMb),
    retry: { retries: settings.retries, baseDelayMs: settings.retryDelayMs, maxDelayMs: 30_000 },
    url: runUrl(plan),
    started: performance.now(),
    ledgerRow: null,
  };
  ctx.report.phases = ctx.clock.totals;
  let prepared: Prepared;
  try {
    const p = await prepare(ctx);
    if (p.kind === "unchanged") return unchanged(ctx, p.last.runId, p.last.finishedAt, p.reason);
    prepared = p.prepared;
  } catch (e) {
    return failed(ctx, e, null);
  }
  try {
    const result = await transact(ctx, prepared);
    committed(ctx, result);
    // before retention: a committed backup counts toward keepBackups
    await markOutcome(prepared.state, "committed", ctx.log);
    await retain(ctx, prepared.state);
    return ctx.report;
  } catch (e) {
    if (e instanceof TransactionFailed && e.cause instanceof PlannedRollback) return planned(ctx, prepared, e.cause.result);
    return await failed(ctx, e, prepared);
  } finally {
    await prepared.sessions.close();
  }
}

/** The transaction, re-run whole (new client, new lock) when the connection drops before COMMIT was sent. */
async function transact(ctx: RunContext, p: Prepared): Promise<TransactionResult> {
  const { plan, clock, report, log } = ctx;
  return withRetries(
    ctx.retry,
    async (attempt) => {
      // a stop requested during the backup: nothing has touched the targets yet
      stopIfAsked(plan.signal, clock.step);
      report.attempts = attempt;
      if (attempt > 1) await p.sessions.renew();
      const ledger = ctx.ledgerRow && { schema: plan.ledgerSchema, row: ctx.ledgerRow };
      const backupManifest = p.state.backup?.manifestPath ?? null;
      const input = {
        plan,
        tables: p.tables,
        load: p.load,
        before: p.state.before,
        backupManifest,
        lock: p.sessions.lock,
        ledger,
        clock,
        memory: ctx.memory,
        log,
        steps: p.steps,
      };
      return runTransaction(p.sessions.client, input);
    },
    async (e) => {
      // a renewed session may fail to connect while the server restarts: as retryable as the transaction's own loss
      const tx = e instanceof TransactionFailed ? e : null;
      if (tx?.cause instanceof PlannedRollback) return false;
      const commitSent = tx?.facts.commitSent ?? false;
      const error = await classifyFailure(tx ? tx.cause : e, {
        runId: plan.runId,
        step: clock.step,
        commitSent,
        tables: new Map(),
        db: null,
      });
      return isRetryable(error, commitSent);
    },
    (e, attempt, delayMs) => {
      const reason = e instanceof TransactionFailed ? String((e.cause as Error)?.message ?? e.cause) : String(e);
      report.retries.push({ attempt, code: "CONNECTION_LOST", message: reason, delayMs });
      log.warn({ phase: "retry", attempt, delayMs, reason }, "connection lost before COMMIT; re-running the whole transaction");
    },
  );
}

/**
 * A failed run: classified (naming the record where there is one), settled (what happened
 * to the data, proven), recorded in the ledger, reported. A COMMIT whose answer was lost but
 * which the server confirms is a success after all, and resolves with the report. A plan
 * never wrote a target, so its failure leaves the data untouched by construction.
 */
async function failed(ctx: RunContext, raw: unknown, p: Prepared | null): Promise<RunReport> {
  const { plan, report, log } = ctx;
  const tx = raw instanceof TransactionFailed ? raw : null;
  report.txid = tx?.facts.txid ?? null;
  const classified = await classifyFailure(tx ? tx.cause : raw, {
    runId: plan.runId,
    step: ctx.clock.step,
    commitSent: tx?.facts.commitSent ?? false,
    tables: new Map((p?.tables ?? []).map((t) => [t.name, t])),
    db: p?.sessions.client ?? null,
    where: describeTarget(plan),
  });
  const error = asInterruption(classified, plan.signal);
  const settled: Settled =
    plan.mode === "plan"
      ? { error: error.with({ data: "untouched" }), committed: false, warnings: [] }
      : await settle(error, {
          url: ctx.url,
          facts: tx?.facts ?? null,
          before: p?.state.before ?? null,
          targets: p ? everyTarget(p).map((t) => t.info) : [],
          backupId: p?.state.backup?.manifest.id ?? null,
          log,
          retry: ctx.retry,
        });
  report.warnings = settled.warnings;
  if (settled.committed && tx?.facts.result) {
    committed(ctx, tx.facts.result);
    await markOutcome(p?.state ?? null, "committed", log);
    report.commitConfirmedBy = "pg_xact_status";
    log.warn(
      { phase: "commit", txid: report.txid, status: "committed", durationMs: report.durationMs },
      "the connection was lost while COMMIT was in flight; pg_xact_status confirms the commit",
    );
    return report;
  }
  const final = settled.error;
  report.outcome = final.data === "untouched" ? "refused" : final.data === "unknown" ? "failed" : "rolled back";
  if (report.outcome === "rolled back" || report.outcome === "refused") await markOutcome(p?.state ?? null, "rolled back", log);
  report.error = final.toJSON();
  report.durationMs = Math.round(performance.now() - ctx.started);
  log.error({ phase: "failed", code: final.code, step: final.step, data: final.data, durationMs: report.durationMs }, final.message);
  // its own short transaction, once the outcome is known (an unresolved COMMIT records itself if it lands)
  if (ctx.ledgerRow && final.data !== "unknown") {
    const row = failedRow(ctx.ledgerRow, { ...report, tables: report.tables.length ? report.tables : (tx?.facts.loaded ?? []) }, final);
    const warning = await recordRun(ctx.url, plan.ledgerSchema, row, { log });
    if (warning) report.warnings.push(warning);
  }
  throw new RunFailed(final, report);
}

/** `app@db.internal:5432/shop`: the target without its password. */
function describeTarget(plan: RunPlan): string {
  try {
    const u = new URL(plan.target.url);
    return `${u.username ? `${decodeURIComponent(u.username)}@` : ""}${plan.target.host}${u.port ? `:${u.port}` : ""}${u.pathname}`;
  } catch {
    return plan.target.host;
  }
}

function committed(ctx: RunContext, result: TransactionResult): void {
  const { report } = ctx;
  report.outcome = "committed";
  report.txid = result.txid;
  report.strategy = result.strategy;
  report.tables = result.tables;
  report.checks = result.checks;
  report.memory = { ...report.memory, ...ctx.memory.stats, gcMs: Math.round(ctx.memory.stats.gcMs) };
  withTiming(report, ctx.started);
  ctx.log.info(
    { phase: "commit", rows: report.rows, rowsPerSecond: report.rowsPerSecond, durationMs: report.durationMs, txid: report.txid },
    "committed",
  );
}

/** A plan's normal end: its transaction rolled back on purpose; the report says what an import would change. */
function planned(ctx: RunContext, p: Prepared, result: PlanResult): RunReport {
  const { plan, report } = ctx;
  const inputs = {
    contentHash: p.content.combined,
    configHash: p.configHash,
    environment: plan.target.env,
    database: p.database,
    fingerprints: { ...result.before },
  };
  report.outcome = "planned";
  report.txid = result.txid;
  report.strategy = result.strategy;
  report.tables = result.tables;
  report.checks = result.checks;
  report.planHash = planHash(inputs);
  const last = p.last;
  report.plan = {
    inputs,
    finalPhase: result.finalPhase,
    notes: result.notes,
    lastDeployed: last && {
      runId: last.runId,
      finishedAt: last.finishedAt,
      contentHash: last.contentHash,
      sameContent: last.contentHash === p.content.combined,
    },
  };
  report.memory = { ...report.memory, ...ctx.memory.stats, gcMs: Math.round(ctx.memory.stats.gcMs) };
  withTiming(report, ctx.started);
  const changes = result.tables.reduce(
    (a, t) => a + (t.planned ? t.planned.changes.inserted + t.planned.changes.updated + t.planned.changes.deleted : 0),
    0,
  );
  ctx.log.info(
    { phase: "plan", planHash: report.planHash, changes, durationMs: report.durationMs },
    "planned: rolled back, nothing written",
  );
  return report;
}

/** An import with nothing to do: no backup, no transaction; the report says why. */
function unchanged(ctx: RunContext, runId: string, finishedAt: string | null, reason: string): RunReport {
  const { report } = ctx;
  report.outcome = "unchanged";
  report.unchanged = { reason, since: { runId, finishedAt } };
  withTiming(report, ctx.started);
  ctx.log.info({ phase: "unchanged", since: runId, durationMs: report.durationMs }, reason);
  return report;
}

async function retain(ctx: RunContext, state: BeforeState): Promise<void> {
  if (!state.backup) return;
  const { plan } = ctx;
  const pruned = await pruneBackups(plan.backupDir, plan.target.env, plan.target.settings.keepBackups, state.backup.manifest.id).catch(
    () => [],
  );
  if (pruned.length) ctx.log.info({ phase: "retention", pruned: pruned.length }, "pruned old backups");
}
