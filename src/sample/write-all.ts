import type pg from "pg";
import type { Logger } from "pino";
import type { MemoryBudget } from "../runner/memory-budget.js";
import { EtlError } from "../errors.js";
import type { SamplePlan, TablePlan } from "./plan-types.js";
import { RowMasker } from "./row-masker.js";
import type { RowSet } from "./row-set.js";
import { openWorker } from "./source-session.js";
import { type WrittenTable, writeTable } from "./table-writer.js";

/** Progress of the writing phase, per table (the CLI shows bars on a TTY). */
export interface SampleHooks {
  /** Once the snapshot is open and planned, before any row is read (tests hold the run here while writers commit). */
  afterSnapshot?: () => Promise<void> | void;
  onTableStart?: (e: { table: string; bytes: number }) => void;
  onProgress?: (e: { table: string; rows: number }) => void;
  onTableDone?: (e: { table: string }) => void;
}

/**
 * Writes every table of the plan, on `main` and on `workers - 1` more connections that
 * import the run's exported snapshot (`SET TRANSACTION SNAPSHOT`): every connection reads
 * exactly the same rows. Biggest tables first; one pino line per table.
 */
export async function writeAll(opts: {
  url: string;
  main: pg.Client;
  snapshotId: string | null;
  workers: number;
  plan: SamplePlan;
  sets: ReadonlyMap<string, RowSet>;
  dir: string;
  batchSize: number;
  hash: (domain: string, value: unknown) => string;
  log: Logger;
  hooks?: SampleHooks;
  memory: MemoryBudget;
}): Promise<WrittenTable[]> {
  const clients: pg.Client[] = [opts.main];
  const extra: pg.Client[] = [];
  try {
    if (opts.snapshotId) {
      for (let i = 1; i < opts.workers; i++) extra.push(await openWorker(opts.url, opts.snapshotId, i));
      clients.push(...extra);
    }
    const sizeOf = (t: TablePlan) => opts.sets.get(t.table.name)?.size ?? Number.MAX_SAFE_INTEGER;
    const queue = [...opts.plan.tables].sort((a, b) => sizeOf(b) - sizeOf(a));
    const done = new Map<string, WrittenTable>();
    let failed: unknown = null;
    await Promise.all(
      clients.map(async (client) => {
        for (let t = queue.shift(); t !== undefined && failed === null; t = queue.shift()) {
          try {
            done.set(t.table.name, await writeOne(client, t, opts));
          } catch (e) {
            failed ??= e;
          }
        }
      }),
    );
    if (failed !== null) throw failed;
    return opts.plan.tables.map((t) => done.get(t.table.name) as WrittenTable);
  } finally {
    for (const c of extra) {
      await c.query("ROLLBACK").catch(() => undefined);
      await c.end().catch(() => undefined);
    }
  }
}

async function writeOne(client: pg.Client, t: TablePlan, opts: Parameters<typeof writeAll>[0]): Promise<WrittenTable> {
  const name = t.table.name;
  opts.hooks?.onTableStart?.({ table: name, bytes: 0 });
  try {
    const w = await writeTable(client, t, opts.sets.get(name) ?? null, {
      dir: opts.dir,
      batchSize: opts.batchSize,
      masker: t.masks.size ? new RowMasker(t, opts.hash) : null,
      onRows: (rows) => {
        opts.memory.check();
        opts.hooks?.onProgress?.({ table: name, rows });
      },
    });
    opts.log.info(
      {
        phase: "write",
        table: name,
        model: t.model,
        file: w.file,
        rows: w.rows,
        bytes: w.bytes,
        source: w.source,
        masked: t.masks.size,
        durationMs: w.durationMs,
      },
      `${name}: ${w.rows} rows`,
    );
    return w;
  } catch (e) {
    if (e instanceof EtlError) throw e;
    throw new EtlError("SQL_ERROR", `reading ${name} failed: ${(e as Error).message}`, { step: "write", table: name, cause: e });
  } finally {
    opts.hooks?.onTableDone?.({ table: name });
  }
}
