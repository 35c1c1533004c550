import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { pgErrorInfo } from "../db/pg-errors.js";
import { query } from "../db/prisma-like.js";
import { MemoryBudget } from "../runner/memory-budget.js";
import { fkOrphans } from "../sql/sample-statements.js";
import { EtlError } from "../errors.js";
import { MANIFEST_FILE, MANIFEST_FORMAT, type ReleaseManifest, toolVersion } from "../release/manifest.js";
import { commitStaging, createStaging, discardStaging } from "../release/output-dir.js";
import { type ClosureStats, closeSample } from "./closure.js";
import type { SamplePlan, SourceTable } from "./plan-types.js";
import type { RowSet } from "./row-set.js";
import { assertReadable, openSource, openWorkers, readSourceCatalog, type SnapshotInfo, type SourceSession } from "./source-session.js";
import type { WrittenTable } from "./table-writer.js";
import { type FkClosure, type SnapshotCheck, verifyClosure } from "./verify-closure.js";
import { type SampleHooks, writeAll } from "./write-all.js";

/** What `export` and `sample` return (the manifest is also written as release.json). */
export interface ReleaseReport {
  name: string;
  kind: "export" | "sample";
  /** The release directory. */
  dir: string;
  rows: number;
  durationMs: number;
  peakRssMb: number;
  manifest: ReleaseManifest;
  /** What to run to import it (set by the command, which knows where `import` reads). */
  next?: string;
}

export interface MakeReleaseOptions {
  url: string;
  /** The source's environment; null when only `--from-url-env` named it. */
  environment: string | null;
  /** The variable the URL came from (its name only), for the manifest. */
  urlVariable: string | null;
  schema: string;
  /** Final release directory (absolute). */
  out: string;
  /** Decides the plan from the catalog read in the snapshot. */
  plan: (catalog: Map<string, SourceTable>) => SamplePlan;
  /** Parallel connections sharing the snapshot (1 = the snapshot's own connection only). */
  jobs: number;
  batchSize: number;
  hash: (domain: string, value: unknown) => string;
  log: Logger;
  hooks?: SampleHooks;
  /** Peak RSS the run aims for (a full GC between chunks near it), as `memoryBudgetMb` for import; 0 leaves it to V8. */
  memoryBudgetMb?: number;
}

const DEFAULT_MEMORY_BUDGET_MB = 256;

/**
 * FKs between two tables that were both written whole by COPY, with neither side's key columns
 * masked: the files hold exactly the snapshot's rows, so the server checks them in that same
 * snapshot (one anti-join) instead of the files being read back.
 */
function snapshotCheck(session: SourceSession, plan: SamplePlan): SnapshotCheck {
  const byName = new Map(plan.tables.map((t) => [t.table.name, t]));
  return (fk) => {
    const child = byName.get(fk.table.name);
    const parent = byName.get(fk.references.name);
    if (!child?.full || !parent?.full) return null;
    if (fk.columns.some((c) => child.masks.has(c)) || fk.referencedColumns.some((c) => parent.masks.has(c))) return null;
    return query<{ checked: string; missing: string }>(session.tx, fkOrphans(fk, child.table, parent.table)).then(([r]) => ({
      checked: Number(r?.checked ?? 0),
      missing: Number(r?.missing ?? 0),
    }));
  };
}

async function timed<T>(log: Logger, phase: string, fn: () => Promise<T>, fields: (r: T) => Record<string, unknown>): Promise<T> {
  const s = performance.now();
  const r = await fn();
  log.info({ phase, ...fields(r), durationMs: Math.round(performance.now() - s) }, `${phase} done`);
  return r;
}

/** The snapshot, exported when workers will share it (one connection if the server refuses to export). */
function openSnapshot(o: MakeReleaseOptions): Promise<SourceSession> {
  return timed(
    o.log,
    "snapshot",
    () =>
      openSource(o.url, { share: o.jobs > 1 }).catch((e: unknown) =>
        o.jobs > 1 && isExportRefused(e) ? openSource(o.url, { share: false }) : Promise.reject(e),
      ),
    (s) => ({ database: s.info.database, standby: s.info.inRecovery, lsn: s.info.lsn, snapshotId: s.info.id }),
  );
}

/** Catalog, plan and privileges, all read in the snapshot. */
async function planInSnapshot(session: SourceSession, o: MakeReleaseOptions): Promise<{ plan: SamplePlan; workers: number }> {
  const plan = o.plan(await readSourceCatalog(session.tx, o.schema));
  // a table taken whole can be split across every worker; otherwise one table per worker at most
  const workers = !session.info.id ? 1 : plan.tables.some((t) => t.full) ? o.jobs : Math.min(o.jobs, plan.tables.length);
  if (o.jobs > 1 && !session.info.id) plan.why.push("one connection: the server refused to export the snapshot");
  o.log.info(
    { phase: "plan", mode: plan.mode, workers, tables: plan.tables.map((t) => t.table.name), why: plan.why },
    `plan: ${plan.mode}`,
  );
  await assertReadable(
    session.tx,
    o.schema,
    plan.tables.map((t) => t.table.name),
  );
  return { plan, workers };
}

function buildManifest(x: {
  o: MakeReleaseOptions;
  plan: SamplePlan;
  workers: number;
  info: SnapshotInfo;
  sets: ReadonlyMap<string, RowSet>;
  stats: ClosureStats;
  written: readonly WrittenTable[];
  closure: readonly FkClosure[];
  durationMs: number;
}): ReleaseManifest {
  const { plan, info } = x;
  return {
    format: MANIFEST_FORMAT,
    name: plan.name,
    kind: plan.kind,
    createdAt: new Date().toISOString(),
    tool: toolVersion(),
    source: {
      database: info.database,
      environment: x.o.environment,
      urlVariable: x.o.urlVariable,
      serverVersion: info.serverVersion,
      standby: info.inRecovery,
      schema: x.o.schema,
    },
    snapshot: { id: info.id, lsn: info.lsn, txidSnapshot: info.txidSnapshot, time: info.time },
    plan: { mode: plan.mode, workers: x.workers, why: plan.why },
    selection: { ...plan.selection, closure: { rounds: x.stats.rounds, queries: x.stats.queries } },
    masks: plan.tables.flatMap((t) =>
      [...t.masks].map(([c, m]) => ({ column: `${t.table.name}.${c}`, rule: m.ruleName, inheritedFrom: m.inheritedFrom })),
    ),
    tables: x.written.map((w) => ({
      table: w.table,
      model: w.model,
      file: w.file,
      keys: "columns" as const,
      rows: w.rows,
      sha256: w.sha256,
      bytes: w.bytes,
      source: w.source,
      pulledBy: Object.fromEntries(x.sets.get(w.table)?.pulledBy ?? [["whole table", w.rows]]),
    })),
    closure: x.closure.map((c) => ({ ...c })),
    durationMs: x.durationMs,
  };
}

/**
 * One export or sample, start to end: open the snapshot (REPEATABLE READ READ ONLY; exported
 * when workers share it), read the catalog, plan, check privileges, close the selection over
 * FKs, stream every table into a temp dir, verify the closure from the written files, write
 * release.json, and only then rename the directory into place. Nothing is written to the
 * source, and on any failure nothing is left in the output.
 */
export async function makeRelease(o: MakeReleaseOptions): Promise<ReleaseReport> {
  const t0 = performance.now();
  const memory = new MemoryBudget(o.memoryBudgetMb ?? DEFAULT_MEMORY_BUDGET_MB);
  const session = await openSnapshot(o);
  let tmp: string | null = null;
  let pool: Awaited<ReturnType<typeof openWorkers>> | null = null;
  try {
    const { plan, workers } = await planInSnapshot(session, o);
    await o.hooks?.afterSnapshot?.();
    // the connections sharing the snapshot, for the closure's queries and the writing
    pool = await openWorkers(o.url, session.info.id, workers);
    const clients = [session.client, ...pool.extra];
    const { sets, stats } = await timed(
      o.log,
      "select",
      () => closeSample(clients, plan, { batchSize: o.batchSize }),
      (r) => ({ rounds: r.stats.rounds, queries: r.stats.queries, rows: Object.fromEntries([...r.sets].map(([n, s]) => [n, s.size])) }),
    ).catch((e: unknown) => Promise.reject(sqlError(e, "select")));
    const dir = (tmp = await createStaging(o.out));
    const written = await writeAll({
      clients,
      plan,
      sets,
      dir,
      batchSize: o.batchSize,
      hash: o.hash,
      log: o.log,
      hooks: o.hooks,
      memory,
    });
    // the verify reads the files and the main session only: the extra connections are done
    await pool.close();
    const closure = await timed(
      o.log,
      "verify",
      () => verifyClosure(dir, plan.tables, { inSnapshot: snapshotCheck(session, plan), onRows: () => memory.check() }),
      (c) => ({
        fks: c.length,
        checked: c.reduce((n, x) => n + x.checked, 0),
        external: c.filter((x) => x.external).length,
        inSnapshot: c.filter((x) => x.verifiedBy === "snapshot").length,
      }),
    );
    const durationMs = () => Math.round(performance.now() - t0);
    const manifest = buildManifest({ o, plan, workers, info: session.info, sets, stats, written, closure, durationMs: durationMs() });
    await writeFile(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    await session.close();
    await commitStaging(dir, o.out);
    tmp = null;
    const rows = written.reduce((n, w) => n + w.rows, 0);
    o.log.info(
      { phase: "done", kind: plan.kind, rows, tables: written.length, dir: o.out, durationMs: durationMs() },
      `${plan.kind} ${plan.name}: ${rows} rows`,
    );
    return {
      name: plan.name,
      kind: plan.kind,
      dir: o.out,
      rows,
      durationMs: durationMs(),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      manifest,
    };
  } finally {
    await discardStaging(tmp);
    await pool?.close();
    await session.close();
  }
}

/** pg_export_snapshot() refused (e.g. by a pooler): fall back to one connection. */
function isExportRefused(e: unknown): boolean {
  return !(e instanceof EtlError) && /export|snapshot/i.test(pgErrorInfo(e).message);
}

function sqlError(e: unknown, step: "select" | "write"): EtlError {
  if (e instanceof EtlError) return e;
  const info = pgErrorInfo(e);
  if (info.sqlstate === "42501") {
    return new EtlError("SOURCE_PERMISSION_DENIED", `the source refused a read: ${info.message}`, {
      step,
      cause: e,
      meta: { sqlstate: info.sqlstate },
    });
  }
  return new EtlError("SQL_ERROR", `${info.message}${info.sqlstate ? ` (SQLSTATE ${info.sqlstate})` : ""}`, {
    step,
    cause: e,
    meta: { sqlstate: info.sqlstate, detail: info.detail, hint: info.hint },
  });
}
