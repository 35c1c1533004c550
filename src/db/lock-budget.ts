import type { EnvironmentSettings } from "../config/environments.js";
import { EtlError } from "../errors.js";
import { redactUrl } from "../reporting/redact.js";
import type { QualifiedName } from "../sql/quote.js";
import { blockingSessions, clearStatsSnapshot, type LockMode, lockTables } from "../sql/locks.js";
import { setLocal } from "../sql/session.js";
import { pgErrorInfo } from "./pg-errors.js";
import { execute, query, type TxLike } from "./prisma-like.js";
import { inSavepoint } from "./savepoint.js";

/** How long the final phase may wait for its locks: per attempt, how often, and the pause between. */
export interface LockBudget {
  /** `lock_timeout` of each attempt. */
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** Pause before the first retry; doubles with each retry. */
  backoffMs: number;
}

/** A session holding (or queued ahead for) locks the final phase needs. */
export interface Blocker {
  pid: number;
  /** e.g. "AccessShareLock on players", "waiting for AccessExclusiveLock on teams". */
  locks: string[];
  state: string | null;
  application: string | null;
  /** The session's current or last statement, shortened and with URL passwords masked. */
  query: string | null;
  /** When the session's transaction started (ISO); null outside a transaction. */
  since: string | null;
}

/** The lock budget of an environment. */
export function lockBudgetOf(s: EnvironmentSettings): LockBudget {
  return { timeoutMs: s.finalLockTimeoutMs, retries: s.finalLockRetries, backoffMs: s.finalLockBackoffMs };
}

const SAVEPOINT = "atomic_etl_final_phase";
const LOCK_NOT_AVAILABLE = "55P03";

export interface FinalPhaseOptions {
  budget: LockBudget;
  /** The tables locked first, in this mode, at the start of every attempt. */
  tables: readonly QualifiedName[];
  mode: LockMode;
  /** The transaction's own `lock_timeout`, put back once the final phase is through. */
  restoreLockTimeoutMs: number;
  log: (msg: string, fields: Record<string, unknown>) => void;
}

/**
 * Runs the final phase within a lock budget. Each attempt runs inside a SAVEPOINT with a
 * short `lock_timeout`: it locks `tables` in `mode`, then runs `work`. A lock timeout
 * anywhere in the attempt rolls back to the savepoint (which also drops the locks it took,
 * so readers never queue behind a waiting run), pauses, and tries again. When the budget
 * runs out the run fails with LOCK_TIMEOUT, naming the sessions that hold conflicting locks.
 * Any other error is thrown unchanged.
 *
 * @example
 * await withLockBudget(tx, { budget: lockBudgetOf(settings), tables, mode: "ACCESS EXCLUSIVE", restoreLockTimeoutMs: 30_000, log },
 *   () => execute(tx, truncateTables(tables)));
 */
export async function withLockBudget<T>(tx: TxLike, opts: FinalPhaseOptions, work: () => Promise<T>): Promise<T> {
  const { budget } = opts;
  const started = performance.now();
  let blockers: Blocker[] = [];
  for (let attempt = 1; ; attempt++) {
    const attempted = await inSavepoint(
      tx,
      SAVEPOINT,
      async () => {
        await query(tx, setLocal("lock_timeout", budget.timeoutMs));
        await execute(tx, lockTables(opts.tables, opts.mode));
        return work();
      },
      (e) => pgErrorInfo(e).sqlstate === LOCK_NOT_AVAILABLE,
    );
    if (attempted.ok) {
      await query(tx, setLocal("lock_timeout", opts.restoreLockTimeoutMs));
      opts.log("locks taken within the lock budget", {
        attempts: attempt,
        mode: opts.mode,
        tables: opts.tables.length,
        durationMs: Math.round(performance.now() - started),
      });
      return attempted.value;
    }
    blockers = await findBlockers(tx, opts.tables, opts.mode);
    opts.log("lock attempt timed out", {
      attempt,
      of: budget.retries + 1,
      lockTimeoutMs: budget.timeoutMs,
      blockers: blockers.map((b) => b.pid),
    });
    if (attempt > budget.retries) break;
    await sleep(budget.backoffMs * 2 ** (attempt - 1));
  }
  throw lockTimeoutError(opts, blockers, Math.round(performance.now() - started));
}

async function findBlockers(tx: TxLike, tables: readonly QualifiedName[], mode: LockMode): Promise<Blocker[]> {
  // pg_stat_activity is read once per transaction unless told otherwise
  await execute(tx, clearStatsSnapshot());
  const rows = await query<{
    pid: number;
    locks: string[];
    state: string | null;
    application: string | null;
    query: string | null;
    since: Date | string | null;
  }>(tx, blockingSessions(tables, mode));
  return rows.map((r) => ({
    pid: Number(r.pid),
    locks: r.locks,
    state: r.state,
    application: r.application,
    query: r.query === null ? null : redactUrl(r.query.replace(/\s+/g, " ").trim()).slice(0, 200),
    since: r.since === null ? null : new Date(r.since).toISOString(),
  }));
}

function lockTimeoutError(opts: FinalPhaseOptions, blockers: Blocker[], waitedMs: number): EtlError {
  const { budget } = opts;
  const names = opts.tables.map((t) => t.name).join(", ");
  const who = blockers.length
    ? blockers.map((b) => `pid ${b.pid} (${b.locks.join(", ")}${b.state ? `; ${b.state}` : ""}${b.query ? `: ${b.query}` : ""})`).join("; ")
    : "no conflicting session was found after the last attempt (it may have just ended)";
  return new EtlError(
    "LOCK_TIMEOUT",
    `could not lock ${names} in ${opts.mode} mode within the lock budget: ${budget.retries + 1} attempt(s) of ${budget.timeoutMs} ms failed over ${waitedMs} ms; blocked by ${who}`,
    {
      meta: { attempts: budget.retries + 1, lockTimeoutMs: budget.timeoutMs, mode: opts.mode, waitedMs, blockers },
      next: blockers.length
        ? `let pid(s) ${blockers.map((b) => b.pid).join(", ")} finish (or end them: SELECT pg_terminate_backend(pid)), then re-run; or raise finalLockTimeoutMs / finalLockRetries`
        : "re-run; or raise finalLockTimeoutMs / finalLockRetries",
    },
  );
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
