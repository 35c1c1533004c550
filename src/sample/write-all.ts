import type pg from "pg";
import type { Logger } from "pino";
import type { MemoryBudget } from "../runner/memory-budget.js";
import { pgTx } from "../db/pg-client.js";
import { query } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { tablePages } from "../sql/source-snapshot.js";
import { assembleParts, type CopyPart, splitBlocks } from "./copy-parts.js";
import type { SamplePlan, TablePlan } from "./plan-types.js";
import { RowMasker } from "./row-masker.js";
import type { RowSet } from "./row-set.js";
import { type WrittenTable, writeTable } from "./table-writer.js";

/** Progress of the writing phase, per table (the CLI shows bars on a TTY). */
export interface SampleHooks {
  /** Once the snapshot is open and planned, before any row is read (tests hold the run here while writers commit). */
  afterSnapshot?: () => Promise<void> | void;
  onTableStart?: (e: { table: string; bytes: number }) => void;
  onProgress?: (e: { table: string; rows: number }) => void;
  onTableDone?: (e: { table: string }) => void;
}

type WriteOptions = {
  /** Every connection in the run's snapshot, the main session first. */
  clients: readonly pg.Client[];
  plan: SamplePlan;
  sets: ReadonlyMap<string, RowSet>;
  dir: string;
  batchSize: number;
  hash: (domain: string, value: unknown) => string;
  log: Logger;
  hooks?: SampleHooks;
  memory: MemoryBudget;
};

interface Job {
  t: TablePlan;
  part: CopyPart | null;
  size: number;
}

/** One job per table; a big table taken whole and unmasked becomes one job per worker, each a block range. */
async function jobsOf(opts: WriteOptions, clients: number): Promise<{ jobs: Job[]; split: Map<string, number> }> {
  const whole = opts.plan.tables.filter((t) => t.full).map((t) => t.table.name);
  const pages = new Map(
    (
      await query<{ name: string; pages: number }>(
        pgTx(opts.clients[0] as pg.Client),
        tablePages(opts.plan.tables[0]?.table.schema ?? "public", whole),
      )
    ).map((r) => [r.name, Number(r.pages)]),
  );
  const jobs: Job[] = [];
  const split = new Map<string, number>();
  for (const t of opts.plan.tables) {
    const n = pages.get(t.table.name) ?? 0;
    const blocks = t.full && t.masks.size === 0 ? splitBlocks(n, clients) : [];
    const parts: (CopyPart | null)[] = blocks.length > 1 ? blocks : [null];
    if (parts.length > 1) split.set(t.table.name, parts.length);
    // sizes in comparable units: pages of a whole table, rows / 50 of a keyed one
    for (const part of parts) jobs.push({ t, part, size: t.full ? n / parts.length : (opts.sets.get(t.table.name)?.size ?? 0) / 50 });
  }
  return { jobs: jobs.sort((x, y) => y.size - x.size), split };
}

/**
 * Writes every table of the plan on the connections sharing the run's snapshot (the main
 * session and those that imported its exported snapshot): every connection reads exactly
 * the same rows. A big table taken whole is split into block ranges, one per connection, and
 * its parts joined in block order. Biggest first; one pino line per table.
 */
export async function writeAll(opts: WriteOptions): Promise<WrittenTable[]> {
  const { clients } = opts;
  const { jobs, split } = await jobsOf(opts, clients.length);
  const done = new Map<string, WrittenTable>();
  const partsDone = new Map<string, WrittenTable[]>();
  let failed: unknown = null;
  await Promise.all(
    clients.map(async (client) => {
      for (let j = jobs.shift(); j !== undefined && failed === null; j = jobs.shift()) {
        try {
          const w = await writeOne(client, j, opts);
          if (j.part && split.has(j.t.table.name)) partsDone.set(j.t.table.name, [...(partsDone.get(j.t.table.name) ?? []), w]);
          else done.set(j.t.table.name, w);
        } catch (e) {
          failed ??= e;
        }
      }
    }),
  );
  if (failed !== null) throw failed;
  for (const [name, n] of split) {
    done.set(name, await assemble(opts, name, n, partsDone.get(name) ?? []));
    opts.hooks?.onTableDone?.({ table: name });
  }
  return opts.plan.tables.map((t) => done.get(t.table.name) as WrittenTable);
}

/** Joins a split table's parts into its file; the table's one log line. */
async function assemble(opts: WriteOptions, name: string, parts: number, written: readonly WrittenTable[]): Promise<WrittenTable> {
  const t = opts.plan.tables.find((x) => x.table.name === name) as TablePlan;
  const t0 = performance.now();
  const rows = Array.from({ length: parts }, (_, i) => {
    const w = written.find((x) => x.part === i);
    if (!w) throw new EtlError("INTERNAL", `${name}: part ${i} of ${parts} was not written`, { step: "write", table: name });
    return w.rows;
  });
  const r = await assembleParts(opts.dir, t.file, rows, () => opts.memory.check());
  const durationMs = Math.max(0, ...written.map((w) => w.durationMs)) + Math.round(performance.now() - t0);
  opts.log.info(
    {
      phase: "write",
      table: name,
      model: t.model,
      file: t.file,
      rows: r.rows,
      bytes: r.bytes,
      source: "copy",
      parts,
      masked: 0,
      durationMs,
    },
    `${name}: ${r.rows} rows`,
  );
  return { table: name, model: t.model, file: t.file, rows: r.rows, bytes: r.bytes, sha256: r.sha256, source: "copy", durationMs };
}

async function writeOne(client: pg.Client, job: Job, opts: WriteOptions): Promise<WrittenTable> {
  const { t, part } = job;
  const name = t.table.name;
  if (!part || part.index === 0) opts.hooks?.onTableStart?.({ table: name, bytes: 0 });
  try {
    const w = await writeTable(client, t, opts.sets.get(name) ?? null, {
      dir: opts.dir,
      batchSize: opts.batchSize,
      masker: t.masks.size ? new RowMasker(t, opts.hash) : null,
      part: part ?? undefined,
      onRows: (rows) => {
        opts.memory.check();
        opts.hooks?.onProgress?.({ table: name, rows });
      },
    });
    const line = {
      phase: "write",
      table: name,
      model: t.model,
      file: w.file,
      rows: w.rows,
      bytes: w.bytes,
      source: w.source,
      masked: t.masks.size,
      durationMs: w.durationMs,
    };
    // a split table's one info line comes when its parts are joined
    if (part)
      opts.log.debug(
        { ...line, part: part.index, fromBlock: part.fromBlock, toBlock: part.toBlock },
        `${name} part ${part.index}: ${w.rows} rows`,
      );
    else opts.log.info(line, `${name}: ${w.rows} rows`);
    return w;
  } catch (e) {
    if (e instanceof EtlError) throw e;
    throw new EtlError("SQL_ERROR", `reading ${name} failed: ${(e as Error).message}`, { step: "write", table: name, cause: e });
  } finally {
    if (!part) opts.hooks?.onTableDone?.({ table: name });
  }
}
