import { availableParallelism } from "node:os";
import type pg from "pg";
import { copyClientOf } from "../db/copy-binding.js";
import { copyIn, copyLineOf } from "../db/copy-from.js";
import { copyUnsupported } from "../db/copy-text.js";
import { forgetPrismaDebugHistory } from "../db/prisma-debug-history.js";
import { execute, type TxLike } from "../db/prisma-like.js";
import type { TablePlan } from "../planner/table-plan.js";
import { type RawBatch, parseTextBatch, readRecords, readRecordTexts, type TextBatch } from "../sources/read-records.js";
import { transformBatches } from "../steps/transform.js";
import { insertBatch } from "../sql/bulk.js";
import { copyFromStdin } from "../sql/copy.js";
import type { TableInfo } from "../sql/catalog.js";
import type { QualifiedName } from "../sql/quote.js";
import { rowsJson } from "../validation/raw-json.js";
import { RecordValidator } from "../validation/record-validator.js";
import { expectRowCount } from "../validation/row-counts.js";
import type { KeyMode } from "../validation/table-mapping.js";
import { CopyBatchEncoder, groupByDefaults } from "./copy-batch.js";
import type { MemoryBudget } from "./memory-budget.js";
import { TableParse } from "./parse-pool.js";
import type { EncodedBatch, TableSetup } from "./parse-protocol.js";

/** The validator of a table's file, as its config entry asks (the loader and the diagnosis use the same). */
export function validatorFor(t: TablePlan): RecordValidator {
  return new RecordValidator(t.mapping, t.info, t.file.file, t.entry.keys, t.entry.schema, t.entry.unknownKeys);
}

export interface TableLoadResult {
  table: string;
  file: string;
  keyMode: KeyMode | null;
  /** Generated columns the file carried values for, and in how many records: left out, the database computes them. */
  generatedSkipped: Record<string, number>;
  records: number;
  rowsInserted: number;
  batches: number;
  bytes: number;
  durationMs: number;
  /** Columns at least one record mentions; tracked for merge tables only (null otherwise). */
  columns: ReadonlySet<string> | null;
  /** Time spent waiting on the COPY or INSERT statements (client-observed database time). */
  dbMs: number;
  /** How the rows went in: COPY on the transaction's own connection, or INSERT … SELECT. */
  via: "copy" | "insert";
}

/** A batch that landed: its rows, its number, and the table's rows loaded and file bytes read so far. */
export interface BatchDone {
  rows: number;
  batch: number;
  loaded: number;
  bytes: number;
}

/** A batch INSERT (or COPY) that Postgres refused; diagnosed after rollback (see diagnose.ts). */
export class BatchInsertFailure extends Error {
  constructor(
    readonly source: TablePlan,
    readonly firstIndex: number,
    readonly rows: Record<string, unknown>[],
    override readonly cause: unknown,
    /** The record a COPY's error named by its line (`COPY t, line N`); null for an INSERT, or a COPY error on no line. */
    readonly record: number | null = null,
  ) {
    super("batch insert failed");
  }
}

type Row = Record<string, unknown>;

/** Sends validated batches, by COPY on the transaction's own connection or as set-based INSERTs, one in flight at a time, and counts what landed. */
class BatchSender {
  inserted = 0;
  batches = 0;
  dbMs = 0;
  private inFlight: Promise<void> | null = null;
  private readonly identity: Set<string>;
  private readonly encoder: CopyBatchEncoder;

  constructor(
    private readonly tx: TxLike,
    private readonly source: TablePlan,
    private readonly target: QualifiedName,
    /** The transaction's `pg` client when the table loads by COPY; null: INSERT … SELECT. */
    private readonly copy: pg.PoolClient | null,
    private readonly onBatch: ((rows: number, batchNo: number) => Promise<void> | void) | undefined,
  ) {
    this.identity = new Set(source.info.columns.filter((c) => c.isIdentity).map((c) => c.name));
    this.encoder = new CopyBatchEncoder(source.info);
  }

  /**
   * Waits for the batch before, then puts this one on the wire without waiting for it to
   * finish. A COPY sends its data only after the server's answer to the COPY statement: wait
   * until the data is out, or the server would sit idle while the next batch is parsed.
   */
  async send(rows: Row[], firstIndex: number): Promise<void> {
    await this.dispatch((onWire) => this.insert(rows, firstIndex, onWire));
  }

  /**
   * The same for a batch a parse worker encoded (COPY only). `rowsOf` gives its rows again,
   * validated on this thread, for the diagnosis of a refused COPY.
   */
  async sendEncoded(b: EncodedBatch, firstIndex: number, rowsOf: () => Row[]): Promise<void> {
    await this.dispatch((onWire) => this.copyEncoded(b, firstIndex, rowsOf, onWire));
  }

  private async dispatch(insert: (onWire: () => void) => Promise<void>): Promise<void> {
    await this.settled();
    let onWire: () => void = () => undefined;
    const out = new Promise<void>((resolve) => (onWire = resolve));
    const p = insert(onWire);
    p.then(onWire, onWire); // also handles a failure until it is awaited, so Node does not flag it
    this.inFlight = p;
    if (this.copy) await out;
  }

  /** The batch in flight, settled (its failure thrown). */
  async settled(): Promise<void> {
    const p = this.inFlight;
    this.inFlight = null;
    if (p) await p;
  }

  private async insert(rows: Row[], firstIndex: number, onWire: () => void): Promise<void> {
    const copy = this.copy;
    const groups: { columns: string[]; rows: Row[]; text?: string }[] = copy
      ? this.encoder.encode(rows)
      : groupByDefaults(this.source.info, rows);
    for (const g of groups) {
      const sent = performance.now();
      try {
        this.inserted += copy
          ? await copyIn(copy, copyFromStdin(this.target, g.columns), g.text as string, onWire)
          : await this.insertGroup(g.columns, g.rows);
        this.dbMs += performance.now() - sent;
      } catch (e) {
        throw new BatchInsertFailure(this.source, firstIndex, rows, e, copy ? recordOfLine(e, rows, g.rows, firstIndex) : null);
      } finally {
        forgetPrismaDebugHistory();
      }
    }
    await this.landed(rows.length);
  }

  /** COPY writes identity columns as given (as INSERT's OVERRIDING SYSTEM VALUE does). */
  private async copyEncoded(b: EncodedBatch, firstIndex: number, rowsOf: () => Row[], onWire: () => void): Promise<void> {
    let count = 0;
    for (const g of b.groups) {
      const sent = performance.now();
      try {
        this.inserted += await copyIn(this.copy as pg.PoolClient, copyFromStdin(this.target, g.columns), g.text, onWire);
        this.dbMs += performance.now() - sent;
      } catch (e) {
        const rows = rowsOf();
        const key = g.columns.join("\u0000");
        const group = groupByDefaults(this.source.info, rows).find((x) => x.columns.join("\u0000") === key)?.rows ?? [];
        throw new BatchInsertFailure(this.source, firstIndex, rows, e, recordOfLine(e, rows, group, firstIndex));
      } finally {
        forgetPrismaDebugHistory();
      }
      count += g.count;
    }
    await this.landed(count);
  }

  private async landed(rows: number): Promise<void> {
    this.batches++;
    await this.onBatch?.(rows, this.batches);
  }

  private insertGroup(columns: string[], rows: Row[]): Promise<number> {
    const overriding = columns.some((c) => this.identity.has(c));
    return execute(this.tx, insertBatch(this.target, this.target, columns, rowsJson(rows), overriding));
  }
}

/** The batch's record behind the line a COPY error names: line N is the N-th row of the group that COPY sent. */
function recordOfLine(e: unknown, batch: readonly Row[], group: readonly Row[], firstIndex: number): number | null {
  const line = copyLineOf(e);
  const row = line === null ? undefined : group[line - 1];
  const i = row === undefined ? -1 : batch.indexOf(row);
  return i < 0 ? null : firstIndex + i;
}

/** The transaction's `pg` client when `source`'s rows can travel as COPY text (see copyUnsupported); null for INSERT … SELECT. */
async function copyClientFor(tx: TxLike, source: TablePlan): Promise<pg.PoolClient | null> {
  if (copyUnsupported(source.info)) return null;
  return copyClientOf(tx);
}

/** Files from this size load through a parse worker under `parseWorkers: "auto"`: below it a worker's start costs more than it saves. */
const AUTO_WORKER_MIN_BYTES = 4 * 1024 * 1024;

/**
 * How many parse workers `source` loads through: 0 (the main thread) for a table with a zod
 * schema or a transform (functions from the config, which a worker cannot receive), for a
 * step's records, or when the rows go by INSERT … SELECT.
 */
export function parseWorkersFor(source: TablePlan, copy: boolean, stepRecords: boolean): number {
  if (!copy || stepRecords || source.entry.schema || source.entry.transform) return 0;
  if (source.parseWorkers !== "auto") return source.parseWorkers;
  return source.file.size >= AUTO_WORKER_MIN_BYTES && availableParallelism() >= 2 ? 1 : 0;
}

/**
 * Streams one file into `target` in batches: parse → validate → one COPY (or, when the
 * client is not over the tool's pool, one set-based INSERT) per batch. Parsing and
 * validating batch n+1 overlaps the load of batch n.
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
  let records = 0;
  let bytes = 0;
  const copy = await copyClientFor(tx, source);
  const sender: BatchSender = new BatchSender(tx, source, target, copy, (rows, batch) =>
    opts.onBatch?.({ rows, batch, loaded: sender.inserted, bytes }),
  );
  // a merge compares and writes only the columns the release mentions
  const columns = source.strategy === "merge" ? new Set<string>() : null;
  const workers = parseWorkersFor(source, copy !== null, opts.batches !== undefined);
  const read = {
    batchSize: source.batchSize,
    maxBatchBytes: source.maxBatchBytes,
    onBytes: (n: number) => (bytes += n),
    label: source.file.file,
  };
  let keyMode: KeyMode | null = null;
  let generatedSkipped: Record<string, number>;
  if (workers > 0) {
    const parse = new TableParse(workerSetup(source, columns !== null), workers);
    try {
      await loadThroughWorkers(parse, readRecordTexts(source.file.path, read), sender, {
        depth: 2 * workers,
        rowsOf: (b) => revalidate(source, parse, b),
        onBatch: (b) => {
          records += b.groups.reduce((n, g) => n + g.count, 0);
          if (columns) for (const c of b.columns ?? []) columns.add(c);
          opts.memory?.check();
        },
      });
    } finally {
      parse.end();
    }
    keyMode = parse.mode;
    generatedSkipped = parse.generatedSkipped();
  } else {
    const validator = validatorFor(source);
    try {
      for await (const batch of transformBatches(source, opts.batches ?? readRecords(source.file.path, read))) {
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
    keyMode = validator.keyMode;
    generatedSkipped = Object.fromEntries(validator.generatedSkipped);
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
    keyMode,
    generatedSkipped,
    records,
    rowsInserted: sender.inserted,
    columns,
    batches: sender.batches,
    bytes,
    durationMs: Math.round(performance.now() - started),
    dbMs: Math.round(sender.dbMs),
    via: copy ? "copy" : "insert",
  };
}

/** What a parse worker needs of `source` (no functions: a worker path has no schema or transform). */
function workerSetup(source: TablePlan, trackColumns: boolean): TableSetup {
  return {
    mapping: source.mapping,
    info: source.info,
    file: source.file.file,
    keys: source.entry.keys,
    unknownKeys: source.entry.unknownKeys,
    updatedAt: new Date().toISOString(),
    trackColumns,
  };
}

/** A batch a worker encoded, validated again on this thread: the rows a refused COPY is diagnosed from. */
function revalidate(source: TablePlan, parse: TableParse, b: TextBatch): Row[] {
  const s = parse.setup;
  const v = new RecordValidator(s.mapping, s.info, s.file, parse.mode ?? s.keys, undefined, s.unknownKeys, s.updatedAt);
  return v.validateBatch(parseTextBatch(source.file.file, b));
}

/**
 * The worker path's loop: batches of record texts go to the workers as the file is read, up
 * to `depth` ahead, and land in the COPY in file order. The first problem in file order wins:
 * a batch's refusal (parse, validation) before a later structural problem of the file, and a
 * refused COPY of an earlier batch before either.
 */
async function loadThroughWorkers(
  parse: TableParse,
  texts: AsyncIterable<TextBatch>,
  sender: BatchSender,
  opts: { depth: number; rowsOf: (b: TextBatch) => Row[]; onBatch: (b: EncodedBatch) => void },
): Promise<void> {
  const ahead: { texts: TextBatch; encoded: Promise<EncodedBatch> }[] = [];
  const land = async () => {
    const next = ahead.shift() as (typeof ahead)[number];
    const encoded = await next.encoded;
    opts.onBatch(encoded);
    await sender.sendEncoded(encoded, next.texts.firstIndex, () => opts.rowsOf(next.texts));
  };
  try {
    try {
      for await (const b of texts) {
        const encoded = parse.parse(b);
        encoded.catch(() => undefined); // awaited in order by land(); a later one may fail first
        ahead.push({ texts: b, encoded });
        if (ahead.length > opts.depth) await land();
      }
    } catch (readError) {
      // records read before the problem come first
      for (const a of ahead) await a.encoded;
      throw readError;
    }
    while (ahead.length) await land();
  } finally {
    await sender.settled();
  }
}
