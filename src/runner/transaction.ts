import type { Logger } from "pino";
import type { HeldLock } from "../db/advisory-lock.js";
import type { Fingerprint } from "../db/fingerprint.js";
import { execute, type PrismaClientLike, query, type TxLike } from "../db/prisma-like.js";
import type { LoadPlan } from "../planner/fk-order.js";
import type { TablePlan } from "../planner/table-plan.js";
import type { TableReport } from "../reporting/report.js";
import { bumpSequence } from "../sql/bulk.js";
import { deferConstraints, setLocal, transactionIdentity } from "../sql/session.js";
import { STRATEGIES } from "../strategies/index.js";
import type { LoadedTable, Strategy, StrategyContext } from "../strategies/strategy.js";
import { type CheckResult, runChecks } from "../validation/user-checks.js";
import { afterLoad } from "./after-load.js";
import { decideCommit } from "./decide.js";
import { stopIfAsked } from "./interrupted.js";
import { guardRemovals } from "./guard-removals.js";
import { loadTable } from "./load.js";
import type { MemoryBudget } from "./memory-budget.js";
import type { PhaseClock } from "./phase.js";
import type { RunPlan } from "./plan.js";

export interface TransactionInput {
  plan: RunPlan;
  tables: readonly TablePlan[];
  load: LoadPlan;
  /** The targets' fingerprints before the run (the backup's, or preflight's). */
  before: Readonly<Record<string, Fingerprint>>;
  /** The backup's manifest, told the transaction's id just before COMMIT; null without a backup. */
  backupManifest: string | null;
  lock: HeldLock;
  clock: PhaseClock;
  memory: MemoryBudget;
  log: Logger;
}

export interface TransactionResult {
  txid: string;
  /** The strategies that ran, as the report names them (a fallback shows as what actually ran). */
  strategy: string;
  tables: TableReport[];
  checks: CheckResult[];
}

/** What is known of a transaction when it fails: what settling the failure needs. */
export interface TransactionFacts {
  /** The callback ran: the run's statements may have reached the targets. */
  started: boolean;
  txid: string | null;
  /** The backend running the transaction (to end it, should it outlive the client). */
  backendPid: number | null;
  commitSent: boolean;
  /** What the run would report, set as COMMIT is sent (a COMMIT whose answer was lost may still have landed). */
  result: TransactionResult | null;
}

/** A failure inside (or while opening) the one transaction, with its {@link TransactionFacts}. */
export class TransactionFailed extends Error {
  constructor(
    readonly facts: TransactionFacts,
    override readonly cause: unknown,
  ) {
    super("the transaction failed");
  }
}

interface StrategyGroup {
  strategy: Strategy;
  tables: TablePlan[];
}

/** One strategy instance per strategy name, serving its tables in load order. */
function groupByStrategy(tables: readonly TablePlan[]): StrategyGroup[] {
  const byName = new Map<string, StrategyGroup>();
  for (const t of tables) {
    const g = byName.get(t.strategy) ?? { strategy: STRATEGIES[t.strategy](), tables: [] };
    g.tables.push(t);
    byName.set(t.strategy, g);
  }
  return [...byName.values()];
}

const strategyNames = (groups: readonly StrategyGroup[]) => [...new Set(groups.map((g) => g.strategy.name))].join(",");

/**
 * The one transaction: clear (or stage) → load every file in batches → validate → apply →
 * the release's checks → the commit gate. Prisma commits when the callback returns and rolls
 * back when it throws; either way a failure comes out as {@link TransactionFailed}.
 */
export async function runTransaction(client: PrismaClientLike, input: TransactionInput): Promise<TransactionResult> {
  const facts: TransactionFacts = { started: false, txid: null, backendPid: null, commitSent: false, result: null };
  const { settings } = input.plan.target;
  try {
    return await client.$transaction((tx) => body(tx, input, facts), {
      timeout: settings.transactionTimeoutMs,
      maxWait: settings.maxWaitMs,
      isolationLevel: "ReadCommitted",
    });
  } catch (e) {
    throw new TransactionFailed({ ...facts }, e);
  }
}

async function body(tx: TxLike, input: TransactionInput, facts: TransactionFacts): Promise<TransactionResult> {
  facts.started = true;
  const { plan, clock, log } = input;
  const { settings } = plan.target;
  await query(tx, setLocal("statement_timeout", settings.statementTimeoutMs));
  await query(tx, setLocal("lock_timeout", settings.lockTimeoutMs));
  const [id] = await query<{ txid: string; pid: number }>(tx, transactionIdentity());
  const txid = id?.txid ?? "";
  facts.txid = txid;
  facts.backendPid = id ? Number(id.pid) : null;
  log.info({ phase: "transaction", txid }, "transaction open");
  if (input.load.deferConstraints) await execute(tx, deferConstraints());

  const groups = groupByStrategy(input.tables);
  const loaded = new Map<string, LoadedTable>();
  const ctxOf = (g: StrategyGroup): StrategyContext => ({
    tx,
    tables: g.tables,
    settings,
    loaded,
    log: (msg, fields) => log.info({ strategy: g.strategy.name, ...fields }, msg),
    warn: (msg, fields) => log.warn({ strategy: g.strategy.name, ...fields }, msg),
  });
  await clock.run(
    "clear",
    async () => {
      for (const g of groups) await g.strategy.prepare(ctxOf(g));
    },
    () => ({ tables: input.tables.length, strategies: strategyNames(groups) }),
  );
  const reports = await loadAll(tx, input, groups, loaded, ctxOf);
  await clock.run(
    "validate",
    async () => {
      await guardRemovals(tx, input.tables, reports, input.before);
      for (const g of groups) await g.strategy.validate(ctxOf(g));
    },
    () => ({ tables: input.tables.length }),
  );
  await clock.run(
    "apply",
    async () => {
      for (const g of groups) {
        await g.strategy.diff?.(ctxOf(g));
        for (const [name, c] of Object.entries(await g.strategy.finish(ctxOf(g)))) {
          const r = reports.get(name);
          if (r) r.applied = c;
          log.info({ phase: "apply", table: name, ...c }, "applied");
        }
      }
      for (const t of input.tables)
        for (const c of t.info.columns) if (c.sequence) await query(tx, bumpSequence(t.info, c.name, c.sequence));
      await afterLoad(tx, plan, log);
    },
    () => ({ tables: input.tables.length }),
  );
  // The release's checks see the final state of every table, still before COMMIT.
  const checks = await clock.run(
    "validate",
    () => runChecks(tx, plan.releaseConfig.checks),
    (c) => ({ checks: c.length }),
  );
  await plan.hooks.beforeCommit?.({ txid, tx });
  clock.enter("commit");
  const result = { txid, strategy: strategyNames(groups), tables: input.tables.map((t) => reports.get(t.name) as TableReport), checks };
  await decideCommit(tx, { lock: input.lock, facts, log, signal: plan.signal, backupManifest: input.backupManifest });
  facts.result = result;
  return result;
}

/** Loads every table's file into where its strategy wants it, parents first. */
async function loadAll(
  tx: TxLike,
  input: TransactionInput,
  groups: readonly StrategyGroup[],
  loaded: Map<string, LoadedTable>,
  ctxOf: (g: StrategyGroup) => StrategyContext,
): Promise<Map<string, TableReport>> {
  const { clock, plan } = input;
  const reports = new Map<string, TableReport>();
  clock.enter("load");
  for (const t of input.tables) {
    const g = groups.find((x) => x.tables.includes(t)) as StrategyGroup;
    plan.hooks.onTableStart?.({ table: t.name, bytes: t.file.size });
    const r = await clock.run(
      "load",
      () =>
        loadTable(tx, t, g.strategy.loadTarget(t), {
          memory: input.memory,
          onBatch: async ({ rows, batch, loaded, bytes }) => {
            stopIfAsked(plan.signal, "load");
            plan.hooks.onProgress?.({ table: t.name, rows: loaded, bytes });
            await plan.hooks.afterBatch?.({ table: t.name, batch, rows, tx });
          },
        }),
      (x) => ({ table: x.table, records: x.records, batches: x.batches, bytes: x.bytes, keyMode: x.keyMode }),
    );
    await g.strategy.tableLoaded?.(ctxOf(g), t);
    plan.hooks.onTableDone?.({ table: t.name });
    loaded.set(t.name, { records: r.records, columns: r.columns });
    reports.set(t.name, {
      table: t.name,
      model: t.mapping.model,
      file: t.file.file,
      sha256: t.file.sha256,
      keyMode: r.keyMode,
      rowsBefore: input.before[t.name]?.rows ?? 0,
      records: r.records,
      rowsLoaded: r.rowsInserted,
      batches: r.batches,
      bytes: r.bytes,
      durationMs: r.durationMs,
      dbMs: r.dbMs,
      applied: null,
    });
  }
  return reports;
}
