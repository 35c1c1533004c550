import type { Logger } from "pino";
import { takeBackup } from "../backup/pg-dump.js";
import { restoreBackup } from "../backup/restore.js";
import { pruneBackups } from "../backup/retention.js";
import { type LoadedConfig, parseConfig, resolveEnvironment } from "../config/load.js";
import { pickEnvironmentName, type EnvironmentSettings } from "../config/environments.js";
import type { ConfigInput, StrategyName } from "../config/schema.js";
import { acquireRunLock, type HeldLock } from "../db/advisory-lock.js";
import { diffFingerprints, type Fingerprint, fingerprintTables } from "../db/fingerprint.js";
import { connect, pgTx } from "../db/pg-client.js";
import { isConnectionLoss, pgErrorInfo } from "../db/pg-errors.js";
import { execute, type PrismaClientLike, query, type TxLike } from "../db/prisma-like.js";
import { type ErrorCode, EtlError, type Step } from "../errors.js";
import { planLoadOrder } from "../planner/fk-order.js";
import { resolveRelease } from "../release/resolve-release.js";
import { silentLogger } from "../reporting/logger.js";
import { readCatalog, type TableInfo } from "../sql/catalog.js";
import { bumpSequence, ping, setLocal } from "../sql/statements.js";
import { OrphanFound } from "../strategies/bulk-rebuild.js";
import { STRATEGIES } from "../strategies/index.js";
import type { Strategy, StrategyContext } from "../strategies/strategy.js";
import { mapModel } from "../validation/table-mapping.js";
import { runChecks } from "./checks.js";
import { diagnoseBatchFailure, diagnoseLateOrphan, diagnoseOrphanFound } from "./diagnose.js";
import { BatchInsertFailure, loadTable, type TableSource } from "./load-table.js";
import { MemoryBudget } from "./memory-budget.js";
import { checkReleaseFiles, newRunId } from "./preflight.js";
import { isRetryable, type RetryPolicy, transactionOutcome, withRetries } from "./retry.js";
import type { RunReport, TableReport } from "./report.js";

/** Hooks for progress display and for tests that inject faults between steps. */
export interface RunHooks {
  /** After each batch is inserted (inside the transaction). Throwing fails the run. */
  afterBatch?: (e: { table: string; batch: number; rows: number; tx: TxLike }) => Promise<void> | void;
  /** Right before the transaction callback returns (COMMIT follows). */
  beforeCommit?: (e: { txid: string; tx: TxLike }) => Promise<void> | void;
  onTableStart?: (e: { table: string; bytes: number }) => void;
  onProgress?: (e: { table: string; rows: number }) => void;
  onTableDone?: (e: { table: string }) => void;
}

export interface ImportOptions {
  release: string;
  /** `local` | `staging` | `production`; default `ETL_ENV`, then `local`. */
  env?: string;
  /** Required for production. */
  force?: boolean;
  /** `false` = `--no-backup`; `tables` | `full` = `--backup <mode>`; default: the environment's. */
  backup?: boolean | "tables" | "full";
  batchSize?: number;
  strategy?: StrategyName;
  /** Wait up to this long for another run's lock instead of failing fast. */
  waitMs?: number;
  /** Connection URL; default: the environment variable the config names (DATABASE_URL). */
  url?: string;
  hooks?: RunHooks;
}

/** A failed run: the error, with the run report attached. */
export class RunFailed extends EtlError {
  constructor(
    readonly error: EtlError,
    readonly report: RunReport,
  ) {
    super(error.code, error.message, { ...error, cause: error.cause });
  }
}

/**
 * The runner: one release, one transaction. Lock → preflight → backup → transaction
 * (clear, stream, validate, apply) → commit once; or roll back, prove the targets
 * unchanged, and restore from the backup only if they are not.
 *
 * @example
 * const etl = new AtomicEtl(config, { logger });
 * const report = await etl.import({ release: "league-2026", env: "staging" });
 */
export class AtomicEtl {
  readonly config: LoadedConfig;
  private readonly log: Logger;

  constructor(config: LoadedConfig | ConfigInput, opts: { logger?: Logger; root?: string } = {}) {
    this.config = "root" in config ? (config as LoadedConfig) : parseConfig(config, opts.root ?? process.cwd());
    this.log = opts.logger ?? silentLogger();
  }

  /** Imports a release. Resolves with the report on COMMIT; rejects with {@link RunFailed} otherwise. */
  async import(opts: ImportOptions): Promise<RunReport> {
    const runId = newRunId();
    const started = Date.now();
    const t0 = performance.now();
    const log = this.log.child({ runId, release: opts.release });
    const phases: Record<string, number> = {};
    const report: RunReport = {
      runId,
      release: opts.release,
      environment: "",
      strategy: "",
      outcome: "failed",
      startedAt: new Date(started).toISOString(),
      durationMs: 0,
      txid: null,
      batchSize: 0,
      rows: 0,
      rowsPerSecond: 0,
      tables: [],
      backup: null,
      checks: [],
      phases,
      peakRssMb: 0,
      memory: { budgetMb: 0, collections: 0, gcMs: 0 },
      attempts: 0,
      retries: [],
      error: null,
    };
    let step: Step = "config";
    let lock: HeldLock | null = null;
    let client: PrismaClientLike | null = null;
    let url = "";
    let before: Record<string, Fingerprint> | null = null;
    let targets: TableInfo[] = [];
    let backupPaths: { dump: string; manifest: Awaited<ReturnType<typeof takeBackup>>["manifest"] } | null = null;
    let commitSent = false;
    // Until the transaction opens, nothing of ours has touched the targets.
    let txStarted = false;
    let retry: RetryPolicy = { retries: 0, baseDelayMs: 0, maxDelayMs: 0 };
    const sources = new Map<string, TableSource>();
    const phase = async <T>(name: Step, fn: () => Promise<T>, fields: (r: T) => Record<string, unknown> = () => ({})): Promise<T> => {
      step = name;
      const s = performance.now();
      const r = await fn();
      const durationMs = Math.round(performance.now() - s);
      phases[name] = (phases[name] ?? 0) + durationMs;
      log.info({ phase: name, ...fields(r), durationMs }, `${name} done`);
      return r;
    };

    try {
      // ---- config: everything that can be refused before a connection is opened
      const envName = pickEnvironmentName(opts.env);
      const { name: env, settings } = resolveEnvironment(this.config, envName);
      report.environment = env;
      retry = { retries: settings.retries, baseDelayMs: settings.retryDelayMs, maxDelayMs: 30_000 };
      const release = resolveRelease(this.config, opts.release);
      if (!release) {
        throw new EtlError(
          "UNKNOWN_RELEASE",
          `unknown release "${opts.release}"; configured: ${Object.keys(this.config.releases).join(", ") || "none"}`,
          { step: "config" },
        );
      }
      if (settings.requireForce && !opts.force) {
        throw new EtlError("PRODUCTION_REQUIRES_FORCE", `DANGER: ${env} refuses to run without --force; nothing was touched`, {
          step: "config",
          next: `re-run with --force once you mean to replace ${env} data`,
        });
      }
      const backupMode = opts.backup === false ? "off" : typeof opts.backup === "string" ? opts.backup : settings.backup;
      if (opts.backup === false && !settings.allowNoBackup) {
        throw new EtlError(
          "NO_BACKUP_FORBIDDEN",
          `${env} does not allow --no-backup (set environments.${env}.allowNoBackup in the config to permit it)`,
          { step: "config" },
        );
      }
      const batchSize = opts.batchSize ?? settings.batchSize;
      report.batchSize = batchSize;
      const memory = new MemoryBudget(settings.memoryBudgetMb);
      report.memory = { budgetMb: settings.memoryBudgetMb, ...memory.stats };
      const urlVar = this.config.databaseUrlEnv[env] ?? "DATABASE_URL";
      const rawUrl = opts.url ?? process.env[urlVar];
      if (!rawUrl) {
        throw new EtlError("DATABASE_URL_MISSING", `${urlVar} is not set`, { step: "config", next: `export ${urlVar}=postgresql://…` });
      }
      url = withAppName(rawUrl, `atomic-etl:${runId.slice(0, 8)}`);

      // ---- files first: a missing file is found before any lock or connection
      const { files, releaseHash } = await phase(
        "preflight",
        () => checkReleaseFiles(this.config, opts.release, release),
        (r) => ({ files: r.files.length, bytes: r.files.reduce((a, f) => a + f.size, 0) }),
      );

      lock = await phase(
        "lock",
        () =>
          acquireRunLock(withAppName(rawUrl, `atomic-etl:lock:${runId.slice(0, 8)}`), this.config.schema, {
            applicationName: `atomic-etl:lock:${runId.slice(0, 8)}`,
            waitMs: opts.waitMs,
          }),
        (l) => ({ pid: l.pid }),
      );

      client = await this.config.client({ url });
      const db = client;
      const dm = client._runtimeDataModel;
      const mappings = release.tables.map((t) => mapModel(t, dm));
      const tableNames = mappings.map((m) => m.table);
      const dup = tableNames.find((n, i) => tableNames.indexOf(n) !== i);
      if (dup) throw new EtlError("CONFIG_INVALID", `table ${dup} appears twice in release ${opts.release}`, { step: "config" });
      const catalog = await phase(
        "preflight",
        () => readCatalog(db, this.config.schema, tableNames),
        (c) => ({ tables: c.size }),
      );
      const plan = planLoadOrder(catalog, tableNames);
      targets = plan.loadOrder.map((n) => catalog.get(n) as TableInfo);
      files.forEach((f, i) => {
        const m = mappings[i];
        if (!m) return;
        sources.set(m.table, {
          info: catalog.get(m.table) as TableInfo,
          mapping: m,
          path: f.path,
          file: f.file,
          batchSize: opts.batchSize ?? f.entry.batchSize ?? settings.batchSize,
          maxBatchBytes: settings.maxBatchBytes,
          keys: f.entry.keys,
          userSchema: f.entry.schema,
          unknownKeys: f.entry.unknownKeys,
        });
      });
      // ---- backup; its manifest's fingerprints (same snapshot as the dump) are the "before"
      // that a rollback is proven against. Without a backup they are taken here.
      if (backupMode === "off") {
        before = await phase(
          "preflight",
          () => fingerprintTables(db, targets),
          (fp) => ({ rows: Object.values(fp).reduce((a, f) => a + f.rows, 0) }),
        );
      } else {
        const b = await phase(
          "backup",
          () =>
            takeBackup({
              url,
              schema: this.config.schema,
              tables: tableNames,
              dir: this.resolve(this.config.backupDir),
              mode: backupMode,
              environment: env,
              release: opts.release,
              releaseHash,
              runId,
            }),
          (r) => ({
            id: r.manifest.id,
            sizeBytes: r.manifest.sizeBytes,
            rows: Object.values(r.manifest.tables).reduce((n, t) => n + t.rows, 0),
          }),
        );
        backupPaths = { dump: b.dumpPath, manifest: b.manifest };
        before = Object.fromEntries(Object.entries(b.manifest.tables).map(([name, t]) => [name, { rows: t.rows, hash: t.hash }]));
        report.backup = { id: b.manifest.id, path: b.dumpPath, sizeBytes: b.manifest.sizeBytes, durationMs: b.manifest.durationMs };
      }

      // ---- the one transaction; re-run whole (fresh strategies, connection and lock) when the
      // connection drops before COMMIT was sent: the server rolled it back
      // --strategy picks the replace strategy: a merge table is never replaced (its release may hold only changes)
      const configured = (t: TableInfo) => files[tableNames.indexOf(t.name)]?.entry.strategy ?? release.strategy;
      const newGroups = () => groupByStrategy(targets, (t) => (configured(t) === "merge" ? "merge" : (opts.strategy ?? configured(t))));
      let groups = newGroups();
      report.strategy = strategyNames(groups);
      const byTable = (gs: StrategyGroup[]) => new Map(gs.flatMap((g) => g.targets.map((t) => [t.name, g] as const)));
      let strategyOf = byTable(groups);
      const loadTargetOf = (name: string) => {
        const g = strategyOf.get(name);
        return g ? g.strategy.loadTarget(catalog.get(name) as TableInfo) : (catalog.get(name) as TableInfo);
      };
      const tableReports = new Map<string, TableReport>();
      await withRetries(
        retry,
        async (attempt) => {
          report.attempts = attempt;
          if (attempt > 1) {
            groups = newGroups();
            strategyOf = byTable(groups);
            await client?.$disconnect().catch(() => undefined);
            client = await this.config.client({ url });
            // a restarted server dropped the lock with its session: take it again
            await lock?.release().catch(() => undefined);
            lock = null;
            lock = await acquireRunLock(withAppName(rawUrl, `atomic-etl:lock:${runId.slice(0, 8)}`), this.config.schema, {
              applicationName: `atomic-etl:lock:${runId.slice(0, 8)}`,
              waitMs: opts.waitMs,
            });
          }
          await (client as PrismaClientLike).$transaction(
            async (tx) => {
              txStarted = true;
              await configureTransaction(tx, settings);
              const [x] = await tx.$queryRawUnsafe<{ txid: string }[]>("SELECT txid_current()::text AS txid");
              report.txid = x?.txid ?? null;
              log.info({ phase: "transaction", txid: report.txid }, "transaction open");
              if (plan.deferConstraints) await execute(tx, { text: "SET CONSTRAINTS ALL DEFERRED", values: [] });
              const ctxOf = (g: StrategyGroup): StrategyContext => ({
                tx,
                tables: catalog,
                plan,
                targets: g.targets,
                loadTargetOf,
                settings,
                scopeOf: (name) => files[tableNames.indexOf(name)]?.entry.scope ?? release.scope,
                mergeOf: (name) => ({
                  options: files[tableNames.indexOf(name)]?.entry.merge,
                  mapping: (sources.get(name) as TableSource).mapping,
                }),
                log: (msg, fields) => log.info({ strategy: g.strategy.name, ...fields }, msg),
                warn: (msg, fields) => log.warn({ strategy: g.strategy.name, ...fields }, msg),
              });
              await phase(
                "clear",
                async () => {
                  for (const g of groups) await g.strategy.prepare(ctxOf(g));
                  // a staged strategy that could not stage now loads as `direct`
                  report.strategy = strategyNames(groups);
                },
                () => ({ tables: targets.length, strategies: report.strategy }),
              );
              step = "load";
              for (const info of targets) {
                const src = sources.get(info.name) as TableSource;
                opts.hooks?.onTableStart?.({ table: info.name, bytes: files.find((f) => f.path === src.path)?.size ?? 0 });
                const r = await phase(
                  "load",
                  () =>
                    loadTable(tx, src, loadTargetOf(info.name), {
                      memory,
                      onBatch: async (rows, batch) => {
                        opts.hooks?.onProgress?.({ table: info.name, rows });
                        await opts.hooks?.afterBatch?.({ table: info.name, batch, rows, tx });
                      },
                    }),
                  (r) => ({ table: r.table, records: r.records, batches: r.batches, bytes: r.bytes, keyMode: r.keyMode }),
                );
                opts.hooks?.onTableDone?.({ table: info.name });
                const f = files.find((x) => x.path === src.path);
                tableReports.set(info.name, {
                  table: info.name,
                  model: src.mapping.model,
                  file: src.file,
                  sha256: f?.sha256 ?? "",
                  keyMode: r.keyMode,
                  rowsBefore: before?.[info.name]?.rows ?? 0,
                  records: r.records,
                  rowsLoaded: r.rowsInserted,
                  batches: r.batches,
                  bytes: r.bytes,
                  durationMs: r.durationMs,
                  dbMs: r.dbMs,
                  applied: null,
                });
              }
              await phase(
                "validate",
                async () => {
                  for (const g of groups) await g.strategy.validate(ctxOf(g));
                },
                () => ({ tables: targets.length }),
              );
              await phase(
                "apply",
                async () => {
                  for (const g of groups) {
                    const counts = await g.strategy.finish(ctxOf(g));
                    for (const [name, c] of Object.entries(counts)) {
                      const t = tableReports.get(name);
                      if (t) t.applied = c;
                      log.info({ phase: "apply", table: name, ...c }, "applied");
                    }
                  }
                  for (const t of targets) for (const c of t.columns) if (c.sequence) await query(tx, bumpSequence(t, c.name, c.sequence));
                },
                () => ({ tables: targets.length }),
              );
              // User checks see the final state of every table, still before COMMIT.
              report.checks = await phase(
                "validate",
                () => runChecks(tx, release.checks),
                (c) => ({ checks: c.length }),
              );
              await opts.hooks?.beforeCommit?.({ txid: report.txid ?? "", tx });
              step = "commit";
              // the transaction's own connection first: a server that is gone is CONNECTION_LOST, not a lost lock
              await query(tx, ping());
              await lock?.assertHeld();
              log.info({ phase: "commit", txid: report.txid }, "sending COMMIT");
              report.tables = targets.map((t) => tableReports.get(t.name) as TableReport);
              commitSent = true;
            },
            { timeout: settings.transactionTimeoutMs, maxWait: settings.maxWaitMs, isolationLevel: "ReadCommitted" },
          );
        },
        async (e) => isRetryable(await this.toEtlError(e, step, null, commitSent, sources), commitSent),
        (e, attempt, delayMs) => {
          const err = e instanceof EtlError ? e : pgErrorInfo(e);
          report.retries.push({ attempt, code: e instanceof EtlError ? e.code : "CONNECTION_LOST", message: err.message, delayMs });
          log.warn(
            { phase: "retry", attempt, txid: report.txid, delayMs, reason: err.message },
            "connection lost before COMMIT; re-running the whole transaction",
          );
        },
      );
      report.tables = targets.map((t) => tableReports.get(t.name) as TableReport);
      report.outcome = "committed";
      report.rows = report.tables.reduce((a, t) => a + t.rowsLoaded, 0);
      report.durationMs = Date.now() - started;
      report.rowsPerSecond = Math.round(report.rows / Math.max(0.001, (performance.now() - t0) / 1000));
      report.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
      report.memory = { ...report.memory, ...memory.stats, gcMs: Math.round(memory.stats.gcMs) };
      log.info(
        { phase: "commit", rows: report.rows, rowsPerSecond: report.rowsPerSecond, durationMs: report.durationMs, txid: report.txid },
        "committed",
      );
      if (backupPaths) {
        const pruned = await pruneBackups(this.resolve(this.config.backupDir), env, settings.keepBackups, backupPaths.manifest.id).catch(
          () => [],
        );
        if (pruned.length) log.info({ phase: "retention", pruned: pruned.length }, "pruned old backups");
      }
      return report;
    } catch (raw) {
      let error = await this.toEtlError(raw, step, client, commitSent, sources);
      error = await this.settle(error, {
        url,
        before: txStarted ? before : null,
        targets,
        backup: backupPaths,
        txid: report.txid,
        commitSent,
        log,
        retry,
      });
      if (error.data === "committed") {
        // The answer to COMMIT was lost, but the server says the transaction committed: that is a success.
        report.outcome = "committed";
        report.commitConfirmedBy = "pg_xact_status";
        report.rows = report.tables.reduce((a, t) => a + t.rowsLoaded, 0);
        report.durationMs = Date.now() - started;
        report.rowsPerSecond = Math.round(report.rows / Math.max(0.001, (performance.now() - t0) / 1000));
        log.warn(
          { phase: "commit", txid: report.txid, status: "committed", durationMs: report.durationMs },
          "the connection was lost while COMMIT was in flight; pg_xact_status confirms the commit",
        );
        return report;
      }
      report.outcome =
        error.data === "rolled back; restored from backup"
          ? "restored from backup"
          : error.data === "untouched"
            ? "refused"
            : error.data === "unknown"
              ? "failed"
              : "rolled back";
      report.error = error.toJSON();
      report.durationMs = Date.now() - started;
      log.error({ phase: "failed", code: error.code, step: error.step, data: error.data, durationMs: report.durationMs }, error.message);
      throw new RunFailed(error, report);
    } finally {
      await client?.$disconnect().catch(() => undefined);
      await lock?.release().catch(() => undefined);
    }
  }

  private resolve(p: string): string {
    return p.startsWith("/") ? p : `${this.config.root}/${p}`;
  }

  /** Maps whatever was thrown to an EtlError with a stable code. */
  private async toEtlError(
    raw: unknown,
    step: Step,
    client: PrismaClientLike | null,
    commitSent: boolean,
    sources: ReadonlyMap<string, TableSource>,
  ): Promise<EtlError> {
    // A batch cut short by a lost connection, a timeout or a deadlock failed for that reason,
    // not because of its records: classify the cause instead of diagnosing the records.
    if (raw instanceof BatchInsertFailure) {
      const c = pgErrorInfo(raw.cause);
      if (!c.sqlstate || /^(08|40|57|55P03)/.test(c.sqlstate) || isConnectionLoss(raw.cause))
        return this.toEtlError(raw.cause, step, client, commitSent, sources);
    }
    // an FK checked after the batches (self-reference moved in the final phase, deferred to COMMIT): name the record
    if (client && !(raw instanceof BatchInsertFailure) && !(raw instanceof EtlError)) {
      const late = await diagnoseLateOrphan(raw, step, sources).catch(() => null);
      if (late) return late;
    }
    if (raw instanceof BatchInsertFailure) {
      if (client) {
        return diagnoseBatchFailure(raw, client, sources).catch((e: unknown) =>
          e instanceof EtlError
            ? e
            : new EtlError("SQL_ERROR", pgErrorInfo(raw.cause).message, { step: "load", table: raw.source.info.name, cause: raw.cause }),
        );
      }
    }
    if (raw instanceof OrphanFound) return diagnoseOrphanFound(raw, sources);
    if (raw instanceof EtlError) {
      raw.step ??= step;
      return raw;
    }
    const info = pgErrorInfo(raw);
    const meta = { sqlstate: info.sqlstate, prismaCode: info.prismaCode, detail: info.detail, hint: info.hint };
    const timeout = TIMEOUTS.find((t) => (t.prismaCode ? info.prismaCode === t.prismaCode : info.sqlstate === t.sqlstate));
    if (timeout) return new EtlError(timeout.code, `${timeout.what}: ${info.message}`, { step, cause: raw, meta, next: timeout.next });
    if (isConnectionLoss(raw))
      return new EtlError(commitSent ? "COMMIT_IN_DOUBT" : "CONNECTION_LOST", `the database connection was lost: ${info.message}`, {
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

  /**
   * After a failure: decide what happened to the data and prove it. An in-doubt COMMIT is
   * resolved with pg_xact_status; otherwise the targets must equal their fingerprints from
   * before the transaction (the backup manifest's, or preflight's without a backup), and only
   * if they do not is the backup restored.
   */
  private async settle(
    error: EtlError,
    s: {
      url: string;
      before: Record<string, Fingerprint> | null;
      targets: TableInfo[];
      backup: { dump: string; manifest: Awaited<ReturnType<typeof takeBackup>>["manifest"] } | null;
      txid: string | null;
      commitSent: boolean;
      log: Logger;
      retry: RetryPolicy;
    },
  ): Promise<EtlError> {
    if (!s.before) {
      error.data = "untouched";
      return error;
    }
    let conn: Awaited<ReturnType<typeof connect>> | null = null;
    try {
      // a server that is restarting gets the same patience as the transaction did
      conn = await withRetries(
        s.retry,
        () => connect(s.url, "atomic-etl:verify"),
        (e) => isConnectionLoss(e),
      );
      if (s.commitSent && s.txid) {
        const status = await transactionOutcome(pgTx(conn), s.txid);
        s.log.info({ phase: "verify", txid: s.txid, status }, "resolved transaction status");
        error.meta.transactionStatus = status;
        if (status === "in progress" || status === "unknown") {
          // never prove or restore against a COMMIT that may still land
          error.data = "unknown";
          error.next = `transaction ${s.txid} is ${status === "unknown" ? "of unknown status" : "still in progress"} on the server: do not restore; run SELECT pg_xact_status('${s.txid}'::xid8) until it says committed or aborted`;
          return error;
        }
        if (status === "committed") {
          const e = new EtlError(
            "COMMIT_IN_DOUBT",
            `the connection was lost while COMMIT was in flight; transaction ${s.txid} did commit`,
            { step: "commit", data: "committed", cause: error, meta: { txid: s.txid } },
          );
          return e;
        }
      }
      const after = await fingerprintTables(pgTx(conn), s.targets);
      const changed = diffFingerprints(s.before, after);
      s.log.info({ phase: "verify", tables: s.targets.length, changed: changed.length }, "post-rollback proof");
      if (changed.length === 0) {
        error.data = "rolled back; database unchanged";
        return error;
      }
      if (s.backup) {
        await restoreBackup(s.url, s.backup.dump, s.backup.manifest, { log: s.log });
        error.data = "rolled back; restored from backup";
        error.next ??= `backup ${s.backup.manifest.id} was restored and verified`;
        return error;
      }
      return new EtlError(
        "ROLLBACK_NOT_PROVEN",
        `after rollback, ${changed.join(", ")} differ from their preflight fingerprints and there is no backup to restore`,
        { step: "verify", data: "unknown", cause: error },
      );
    } catch (e) {
      if (e instanceof EtlError && e.step === "restore") {
        // the restore's own outcome is relative to the failed run's leftovers, not to preflight
        e.data = "unknown";
        return e;
      }
      error.data = "unknown";
      error.next = `could not verify the database after the failure (${(e as Error).message}); check the targets by hand${s.backup ? ` or run: atomic-etl restore ${s.backup.manifest.id}` : ""}`;
      return error;
    } finally {
      await conn?.end().catch(() => undefined);
    }
  }
}

async function configureTransaction(tx: TxLike, s: EnvironmentSettings): Promise<void> {
  for (const stmt of [setLocal("statement_timeout", s.statementTimeoutMs), setLocal("lock_timeout", s.lockTimeoutMs)]) {
    await tx.$queryRawUnsafe(stmt.text, ...stmt.values);
  }
}

/** Tags the run's connections so they can be found in pg_stat_activity. */
function withAppName(url: string, name: string): string {
  try {
    const u = new URL(url);
    if (!u.searchParams.has("application_name")) u.searchParams.set("application_name", name);
    return u.toString();
  } catch {
    return url;
  }
}

interface StrategyGroup {
  strategy: Strategy;
  targets: TableInfo[];
}

/**
 * One strategy instance per strategy name, serving its tables in load order. Tables joined
 * by an FK must share a strategy: the final phase replaces such a group together.
 */
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

/** The strategies that run, as the report names them (a fallback shows as what actually ran). */
const strategyNames = (groups: readonly StrategyGroup[]) => [...new Set(groups.map((g) => g.strategy.name))].join(",");

function groupByStrategy(targets: readonly TableInfo[], nameOf: (t: TableInfo) => StrategyName): StrategyGroup[] {
  const byName = new Map<StrategyName, StrategyGroup>();
  for (const t of targets) {
    const name = nameOf(t);
    const g = byName.get(name) ?? { strategy: STRATEGIES[name](), targets: [] };
    g.targets.push(t);
    byName.set(name, g);
  }
  for (const t of targets) {
    for (const fk of t.foreignKeys) {
      const parent = targets.find((x) => x.name === fk.references.name && x.schema === fk.references.schema);
      if (parent && nameOf(parent) !== nameOf(t)) {
        throw new EtlError(
          "CONFIG_INVALID",
          `${t.name} (${nameOf(t)}) references ${parent.name} (${nameOf(parent)}): tables joined by a foreign key must use the same strategy`,
          { step: "config" },
        );
      }
    }
  }
  return [...byName.values()];
}
