import type { Logger } from "pino";
import type { HeldLock } from "../db/advisory-lock.js";
import { type Fingerprint, fingerprintTables } from "../db/fingerprint.js";
import { execute, type PrismaClientLike, query, type TxLike } from "../db/prisma-like.js";
import { integerKey, readBuckets } from "../ledger/drift.js";
import type { LedgerRow } from "../ledger/ledger-row.js";
import { ledgerInsert } from "../ledger/record.js";
import { committedRow, type TableAfter } from "../ledger/run-row.js";
import type { LoadPlan } from "../planner/fk-order.js";
import type { TablePlan } from "../planner/table-plan.js";
import type { TableReport } from "../reporting/report.js";
import { deferConstraints, readWriteTransaction, setLocal, transactionIdentity } from "../sql/session.js";
import type { LoadedTable } from "../strategies/strategy.js";
import { StepRunner } from "../steps/run-steps.js";
import { type BoundSteps, everyTarget } from "../steps/targets.js";
import { type CheckResult, runChecks } from "../validation/user-checks.js";
import { applyPhase } from "./apply.js";
import { decideCommit } from "./decide.js";
import { contextOf, type GroupShared, groupByStrategy, type StrategyGroup, strategyNames } from "./groups.js";
import { stopIfAsked } from "./interrupted.js";
import { guardRemovals } from "./guard-removals.js";
import { fieldName } from "./diagnose-scan.js";
import { loadTable } from "./load.js";
import type { MemoryBudget } from "./memory-budget.js";
import type { PhaseClock } from "./phase.js";
import type { RunPlan } from "./plan.js";
import { planPhase } from "./plan-phase.js";

export interface TransactionInput {
  plan: RunPlan;
  tables: readonly TablePlan[];
  load: LoadPlan;
  /** The targets' fingerprints before the run (the backup's, or preflight's); null: a plan reads them in its own snapshot. */
  before: Readonly<Record<string, Fingerprint>> | null;
  /** The backup's manifest, told the transaction's id just before COMMIT; null without a backup. */
  backupManifest: string | null;
  /** The run lock (an import's; a plan takes none). */
  lock: HeldLock | null;
  /** An import's ledger row as known before the transaction; the commit gate completes and writes it. */
  ledger: { schema: string; row: LedgerRow } | null;
  clock: PhaseClock;
  memory: MemoryBudget;
  log: Logger;
  /** The release's steps, bound to their tables (src/steps/). */
  steps: BoundSteps;
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
  /** The tables loaded so far (what a failed run's ledger row says it got through). */
  loaded: TableReport[];
}

/** A failure inside (or while opening) the one transaction, with its {@link TransactionFacts}; a plan's ROLLBACK too. */
export class TransactionFailed extends Error {
  constructor(
    readonly facts: TransactionFacts,
    override readonly cause: unknown,
  ) {
    super("the transaction failed");
  }
}

/**
 * The one transaction: clear (or stage) → load every file in batches → validate → apply →
 * the release's checks → the commit gate. Prisma commits when the callback returns and rolls
 * back when it throws; either way a failure comes out as {@link TransactionFailed}. A plan
 * runs the same way in REPEATABLE READ (its fingerprints, diff and checks see one snapshot),
 * stages instead of applying, and ends at the gate in its ROLLBACK.
 */
export async function runTransaction(client: PrismaClientLike, input: TransactionInput): Promise<TransactionResult> {
  const facts: TransactionFacts = { started: false, txid: null, backendPid: null, commitSent: false, result: null, loaded: [] };
  const { settings } = input.plan.target;
  try {
    return await client.$transaction((tx) => body(tx, input, facts), {
      timeout: settings.transactionTimeoutMs,
      maxWait: settings.maxWaitMs,
      isolationLevel: input.plan.mode === "plan" ? "RepeatableRead" : "ReadCommitted",
    });
  } catch (e) {
    throw new TransactionFailed({ ...facts }, e);
  }
}

/** The transaction's timeouts, and its identity (what a failure is later resolved by). */
async function open(tx: TxLike, input: TransactionInput, facts: TransactionFacts): Promise<string> {
  facts.started = true;
  const { settings } = input.plan.target;
  await execute(tx, readWriteTransaction());
  await query(tx, setLocal("statement_timeout", settings.statementTimeoutMs));
  await query(tx, setLocal("lock_timeout", settings.lockTimeoutMs));
  const [id] = await query<{ txid: string; pid: number }>(tx, transactionIdentity());
  const txid = id?.txid ?? "";
  facts.txid = txid;
  facts.backendPid = id ? Number(id.pid) : null;
  input.log.info({ phase: "transaction", txid, mode: input.plan.mode }, "transaction open");
  return txid;
}

async function body(tx: TxLike, input: TransactionInput, facts: TransactionFacts): Promise<TransactionResult> {
  const { plan, clock, log } = input;
  const txid = await open(tx, input, facts);
  const steps = new StepRunner(tx, plan, input.steps, clock, input.memory, log);
  const before =
    input.before ??
    (await clock.run(
      "preflight",
      () =>
        fingerprintTables(
          tx,
          input.tables.map((t) => t.info),
        ),
      (fp) => ({ rows: Object.values(fp).reduce((a, f) => a + f.rows, 0) }),
    ));
  if (input.load.deferConstraints) await execute(tx, deferConstraints());

  const groups = groupByStrategy(input.tables, plan.mode);
  const loaded = new Map<string, LoadedTable>();
  const shared: GroupShared = { tx, plan, before, loaded, log };
  await steps.run("before");
  await clock.run(
    "clear",
    async () => {
      for (const g of groups) await g.strategy.prepare(contextOf(g, shared));
    },
    () => ({ tables: input.tables.length, strategies: strategyNames(groups) }),
  );
  const reports = await loadAll(tx, input, before, groups, loaded, facts, shared, steps);
  await clock.run(
    "validate",
    async () => {
      await guardRemovals(tx, input.tables, reports, before);
      for (const g of groups) await g.strategy.validate(contextOf(g, shared));
    },
    () => ({ tables: input.tables.length }),
  );
  const planned = plan.mode === "plan" ? await planPhase(shared, groups, reports, clock) : null;
  if (!planned) await applyPhase(shared, groups, reports, clock);
  await steps.run("after");
  // The release's checks see the final state of every table (a plan's: through its views), still before COMMIT.
  const checks = await clock.run(
    "validate",
    () => runChecks(tx, plan.releaseConfig.checks),
    (c) => ({ checks: c.length }),
  );
  const tables = input.tables.map((t) => reports.get(t.name) as TableReport);
  const result = { txid, strategy: strategyNames(groups), tables, checks };
  if (planned) {
    clock.enter("commit");
    await plan.hooks.beforeCommit?.({ txid, tx });
    await decideCommit(tx, facts, log, { mode: "plan", result: { ...result, ...planned, before } }, plan.signal);
  }
  const after = await clock.run(
    "ledger",
    () => fingerprintsAfter(tx, everyTarget(input)),
    (a) => ({ tables: Object.keys(a).length, rows: Object.values(a).reduce((n, t) => n + t.fingerprint.rows, 0) }),
  );
  clock.enter("commit");
  await plan.hooks.beforeCommit?.({ txid, tx });
  const { schema, row } = input.ledger as NonNullable<TransactionInput["ledger"]>;
  await decideCommit(
    tx,
    facts,
    log,
    {
      mode: "import",
      lock: input.lock as HeldLock,
      ledger: ledgerInsert(schema, committedRow(row, result, after)),
      backupManifest: input.backupManifest,
    },
    plan.signal,
  );
  facts.result = result;
  return result;
}

/** The targets (files' and steps' alike) as they will commit: fingerprints with drift buckets (by primary key), one scan each. */
async function fingerprintsAfter(tx: TxLike, tables: readonly Pick<TablePlan, "name" | "info">[]): Promise<Record<string, TableAfter>> {
  const out: Record<string, TableAfter> = {};
  for (const t of tables) out[t.name] = await readBuckets(tx, t.info, t.info.primaryKey, integerKey(t.info));
  return out;
}

/** Loads every table's file into where its strategy wants it, parents first. */
async function loadAll(
  tx: TxLike,
  input: TransactionInput,
  before: Readonly<Record<string, Fingerprint>>,
  groups: readonly StrategyGroup[],
  loaded: Map<string, LoadedTable>,
  facts: TransactionFacts,
  shared: GroupShared,
  steps: StepRunner,
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
    if (Object.keys(r.generatedSkipped).length) {
      // named as the file spells them: Prisma field names in a field-keyed file
      const skipped = Object.fromEntries(Object.entries(r.generatedSkipped).map(([c, n]) => [fieldName(t, [c], r.keyMode), n]));
      input.log.info(
        { phase: "load", table: t.name, generatedSkipped: skipped },
        `${t.file.file}: values for generated columns left out (${Object.keys(skipped).join(", ")}): the database computes them`,
      );
    }
    await g.strategy.tableLoaded?.(contextOf(g, shared), t);
    plan.hooks.onTableDone?.({ table: t.name });
    loaded.set(t.name, { records: r.records, columns: r.columns });
    reports.set(t.name, {
      table: t.name,
      strategy: g.strategy.name,
      model: t.mapping.model,
      file: t.file.file,
      sha256: t.file.sha256,
      keyMode: r.keyMode,
      rowsBefore: before[t.name]?.rows ?? 0,
      records: r.records,
      rowsLoaded: r.rowsInserted,
      batches: r.batches,
      bytes: r.bytes,
      durationMs: r.durationMs,
      dbMs: r.dbMs,
      applied: null,
    });
    facts.loaded = [...reports.values()];
    await steps.run(t);
  }
  return reports;
}
