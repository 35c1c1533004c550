import type { Logger } from "pino";
import { pruneBackups } from "../backup/retention.js";
import type { HeldLock } from "../db/advisory-lock.js";
import { readCatalog } from "../db/catalog.js";
import { type DatabaseIdentity, formatIdentity, readDatabaseIdentity, sameDatabase } from "../db/database-identity.js";
import type { PrismaClientLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import type { LoadPlan } from "../planner/fk-order.js";
import type { TablePlan } from "../planner/table-plan.js";
import { checkReleaseFiles } from "../release/release-files.js";
import { newReport, type RunReport, RunFailed, withTiming } from "../reporting/report.js";
import { type BeforeState, markOutcome, takeBeforeState } from "./backup.js";
import { classifyFailure } from "./classify.js";
import { runUrl, takeRunLock } from "./lock.js";
import { MemoryBudget } from "./memory-budget.js";
import { asInterruption, stopIfAsked } from "./interrupted.js";
import { PhaseClock } from "./phase.js";
import { mapTables, planTables, type RunPlan } from "./plan.js";
import { isRetryable, type RetryPolicy, withRetries } from "./retry.js";
import { settle } from "./settle.js";
import { runTransaction, TransactionFailed, type TransactionResult } from "./transaction.js";

/** What every phase of one run shares: the plan, its log, its clock and its report. */
interface RunContext {
  plan: RunPlan;
  log: Logger;
  clock: PhaseClock;
  report: RunReport;
  memory: MemoryBudget;
  retry: RetryPolicy;
  /** The URL of the run's own connections (tagged with the run id). */
  url: string;
  started: number;
}

/** The run's two sessions: the Prisma client and the run lock, renewed together when a retry needs it. */
class Sessions {
  constructor(
    private readonly plan: RunPlan,
    public client: PrismaClientLike,
    public lock: HeldLock,
  ) {}

  async renew(): Promise<void> {
    await this.client.$disconnect().catch(() => undefined);
    this.client = await this.plan.client({ url: runUrl(this.plan) });
    // a restarted server dropped the lock with its session: take it again
    await this.lock.release().catch(() => undefined);
    this.lock = await takeRunLock(this.plan);
  }

  async close(): Promise<void> {
    await this.client.$disconnect().catch(() => undefined);
    await this.lock.release().catch(() => undefined);
  }
}

/** Everything the transaction needs, once preflight, lock, catalog and backup are through. */
interface Prepared {
  sessions: Sessions;
  tables: TablePlan[];
  load: LoadPlan;
  state: BeforeState;
}

/**
 * One import, phase by phase: preflight (files) → lock → catalog → one-database check →
 * backup (or fingerprints) → the one transaction (re-run whole after a connection lost
 * before COMMIT) → retention. On failure: classify, settle (prove what happened to the
 * data), and reject with {@link RunFailed} carrying the report.
 */
export async function runImport(plan: RunPlan, log: Logger): Promise<RunReport> {
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
  };
  ctx.report.phases = ctx.clock.totals;
  let prepared: Prepared;
  try {
    prepared = await prepare(ctx);
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
    return await failed(ctx, e, prepared);
  } finally {
    await prepared.sessions.close();
  }
}

async function prepare(ctx: RunContext): Promise<Prepared> {
  const { plan, clock } = ctx;
  const { files, releaseHash } = await clock.run(
    "preflight",
    () => checkReleaseFiles(plan.config, plan.release, plan.releaseConfig),
    (r) => ({ files: r.files.length, bytes: r.files.reduce((a, f) => a + f.size, 0) }),
  );
  const client = await plan.client({ url: ctx.url });
  let lock: HeldLock | null = null;
  try {
    const mappings = mapTables(plan, client._runtimeDataModel);
    lock = await clock.run(
      "lock",
      () => takeRunLock(plan),
      (l) => ({ pid: l.pid }),
    );
    const bound = await clock.run(
      "preflight",
      async () =>
        planTables(
          plan,
          files,
          mappings,
          await readCatalog(
            client,
            plan.schema,
            mappings.map((m) => m.table),
          ),
        ),
      (b) => ({ tables: b.tables.length }),
    );
    ctx.report.database = await assertOneDatabase(plan, client, lock);
    const state = await takeBeforeState(plan, bound.tables, client, ctx.url, releaseHash, clock, ctx.log);
    ctx.report.strategy = [...new Set(bound.tables.map((t) => t.strategy))].join(",");
    const b = state.backup;
    ctx.report.backup = b && { id: b.manifest.id, path: b.dumpPath, sizeBytes: b.manifest.sizeBytes, durationMs: b.manifest.durationMs };
    return { sessions: new Sessions(plan, client, lock), tables: bound.tables, load: bound.load, state };
  } catch (e) {
    await client.$disconnect().catch(() => undefined);
    await lock?.release().catch(() => undefined);
    throw e;
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
      const backupManifest = p.state.backup?.manifestPath ?? null;
      const input = {
        plan,
        tables: p.tables,
        load: p.load,
        before: p.state.before,
        backupManifest,
        lock: p.sessions.lock,
        clock,
        memory: ctx.memory,
        log,
      };
      return runTransaction(p.sessions.client, input);
    },
    async (e) => {
      // a renewed session may fail to connect while the server restarts: as retryable as the transaction's own loss
      const tx = e instanceof TransactionFailed ? e : null;
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
 * to the data, proven), reported. A COMMIT whose answer was lost but which the server
 * confirms is a success after all, and resolves with the report.
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
  const settled = await settle(error, {
    url: ctx.url,
    facts: tx?.facts ?? null,
    before: p?.state.before ?? null,
    targets: (p?.tables ?? []).map((t) => t.info),
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

/** The config's Prisma client and the run's own sessions (lock, backup, proof) must reach one database. */
async function assertOneDatabase(plan: RunPlan, client: PrismaClientLike, lock: HeldLock): Promise<DatabaseIdentity> {
  const [theirs, ours] = await Promise.all([readDatabaseIdentity(client), readDatabaseIdentity(lock.session)]);
  if (sameDatabase(theirs, ours)) return ours;
  throw new EtlError(
    "DATABASE_MISMATCH",
    `the config's Prisma client reaches ${formatIdentity(theirs)}, but the run's lock, backup and proof connect to ${formatIdentity(ours)} (${plan.target.urlVariable ?? "the URL given"}); nothing was touched`,
    {
      step: "preflight",
      runId: plan.runId,
      meta: { client: theirs, run: ours },
      next: "make the config's client factory use the URL it is given: client: ({ url }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) })",
    },
  );
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

async function retain(ctx: RunContext, state: BeforeState): Promise<void> {
  if (!state.backup) return;
  const { plan } = ctx;
  const pruned = await pruneBackups(plan.backupDir, plan.target.env, plan.target.settings.keepBackups, state.backup.manifest.id).catch(
    () => [],
  );
  if (pruned.length) ctx.log.info({ phase: "retention", pruned: pruned.length }, "pruned old backups");
}
