import { forgetPrismaDebugHistory } from "../db/prisma-debug-history.js";
import { execute, type TxLike } from "../db/prisma-like.js";
import type { TablePlan } from "../planner/table-plan.js";
import { type RawBatch, readRecords } from "../sources/read-records.js";
import { transformBatches } from "../steps/transform.js";
import { insertBatch } from "../sql/bulk.js";
import type { TableInfo } from "../sql/catalog.js";
import type { QualifiedName } from "../sql/quote.js";
import { rowsJson } from "../validation/raw-json.js";
import { RecordValidator } from "../validation/record-validator.js";
import { expectRowCount } from "../validation/row-counts.js";
import type { KeyMode } from "../validation/table-mapping.js";
import type { MemoryBudget } from "./memory-budget.js";

/** The validator of a table's file, as its config entry asks (the loader and the diagnosis use the same). */
export function validatorFor(t: TablePlan): RecordValidator {
  return new RecordValidator(t.mapping, t.info, t.file.file, t.entry.keys, t.entry.schema, t.entry.unknownKeys);
}

export interface TableLoadResult {
  table: string;
  file: string;
  keyMode: KeyMode | null;
  records: number;
  rowsInserted: number;
  batches: number;
  bytes: number;
  durationMs: number;
  /** Columns at least one record mentions; tracked for merge tables only (null otherwise). */
  columns: ReadonlySet<string> | null;
  /** Time spent waiting on the INSERT statements (client-observed database time). */
  dbMs: number;
}

/** A batch that landed: its rows, its number, and the table's rows loaded and file bytes read so far. */
export interface BatchDone {
  rows: number;
  batch: number;
  loaded: number;
  bytes: number;
}

/** A batch INSERT that Postgres refused; diagnosed after rollback (see diagnose.ts). */
export class BatchInsertFailure extends Error {
  constructor(
    readonly source: TablePlan,
    readonly firstIndex: number,
    readonly rows: Record<string, unknown>[],
    override readonly cause: unknown,
  ) {
    super("batch insert failed");
  }
}

type Row = Record<string, unknown>;

/**
 * Rows grouped by which defaulted columns they carry, so an absent key gets the column's
 * DEFAULT rather than NULL. Usually one group.
 */
export function groupByDefaults(info: TableInfo, rows: Row[]): { columns: string[]; rows: Row[] }[] {
  const defaulted = info.columns.filter((c) => c.hasDefault && !c.isGenerated).map((c) => c.name);
  const plain = info.columns.filter((c) => !c.hasDefault && !c.isGenerated).map((c) => c.name);
  if (defaulted.length === 0) return [{ columns: plain, rows }];
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    let sig = "";
    for (const c of defaulted) sig += r[c] === undefined ? "0" : "1";
    const g = groups.get(sig);
    if (g) g.push(r);
    else groups.set(sig, [r]);
  }
  return [...groups].map(([sig, rs]) => ({ columns: [...plain, ...defaulted.filter((_, i) => sig[i] === "1")], rows: rs }));
}

/** Sends validated batches as set-based INSERTs, one in flight at a time, and counts what landed. */
class BatchSender {
  inserted = 0;
  batches = 0;
  dbMs = 0;
  private inFlight: Promise<void> | null = null;
  private readonly identity: Set<string>;

  constructor(
    private readonly tx: TxLike,
    private readonly source: TablePlan,
    private readonly target: QualifiedName,
    private readonly onBatch: ((rows: number, batchNo: number) => Promise<void> | void) | undefined,
  ) {
    this.identity = new Set(source.info.columns.filter((c) => c.isIdentity).map((c) => c.name));
  }

  /** Waits for the batch before, then puts this one on the wire without waiting for it. */
  async send(rows: Row[], firstIndex: number): Promise<void> {
    await this.settled();
    const p = this.insert(rows, firstIndex);
    p.catch(() => undefined); // handled when awaited; keeps Node from flagging it meanwhile
    this.inFlight = p;
  }

  /** The INSERT in flight, settled (its failure thrown). */
  async settled(): Promise<void> {
    const p = this.inFlight;
    this.inFlight = null;
    if (p) await p;
  }

  private async insert(rows: Row[], firstIndex: number): Promise<void> {
    for (const g of groupByDefaults(this.source.info, rows)) {
      const overriding = g.columns.some((c) => this.identity.has(c));
      const stmt = insertBatch(this.target, this.target, g.columns, rowsJson(g.rows), overriding);
      const sent = performance.now();
      try {
        this.inserted += await execute(this.tx, stmt);
        this.dbMs += performance.now() - sent;
      } catch (e) {
        throw new BatchInsertFailure(this.source, firstIndex, rows, e);
      } finally {
        forgetPrismaDebugHistory();
      }
    }
    this.batches++;
    await this.onBatch?.(rows.length, this.batches);
  }
}

/**
 * Streams one file into `target` in batches: parse → validate → one set-based INSERT per
 * batch. Parsing and validating batch n+1 overlaps the INSERT of batch n.
 */
export async function loadTable(
  tx: TxLike,
  source: TablePlan,
  target: QualifiedName,
  /** `batches`: records from elsewhere than the file (a step's `load()`). */
  opts: { onBatch?: (e: BatchDone) => Promise<void> | void; memory?: MemoryBudget; batches?: AsyncIterable<RawBatch> } = {},
): Promise<TableLoadResult> {
  const started = performance.now();
  const { info } = source;
  const validator = validatorFor(source);
  let records = 0;
  let bytes = 0;
  const sender: BatchSender = new BatchSender(tx, source, target, (rows, batch) =>
    opts.onBatch?.({ rows, batch, loaded: sender.inserted, bytes }),
  );
  // a merge compares and writes only the columns the release mentions
  const columns = source.strategy === "merge" ? new Set<string>() : null;
  try {
    const read =
      opts.batches ??
      readRecords(source.file.path, {
        batchSize: source.batchSize,
        maxBatchBytes: source.maxBatchBytes,
        onBytes: (n) => (bytes += n),
        label: source.file.file,
      });
    for await (const batch of transformBatches(source, read)) {
      const rows = validator.validateBatch(batch);
      records += rows.length;
      if (columns) for (const r of rows) for (const k in r) columns.add(k);
      // while the server still works on the previous batch
      opts.memory?.check();
      await sender.send(rows, batch.firstIndex);
      // Let Prisma's promise chain put the INSERT on the wire before parsing the next batch
      // takes the thread; without it the two ran one after the other (measured 1.4x slower).
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    // The INSERT in flight holds earlier records: let it settle before the rollback, and
    // report its failure first, as the first problem in file order.
    await sender.settled();
  }
  expectRowCount({
    table: info.name,
    expected: records,
    actual: sender.inserted,
    message: `${source.file.file}: read ${records} records but ${sender.inserted} rows were inserted into ${info.name}`,
    step: "validate",
    file: source.file.file,
  });
  return {
    table: info.name,
    file: source.file.file,
    keyMode: validator.keyMode,
    records,
    rowsInserted: sender.inserted,
    columns,
    batches: sender.batches,
    bytes,
    durationMs: Math.round(performance.now() - started),
    dbMs: Math.round(sender.dbMs),
  };
}
