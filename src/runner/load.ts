import type pg from "pg";
import { copyClientOf } from "../db/copy-binding.js";
import { copyIn, copyLineOf } from "../db/copy-from.js";
import { copyUnsupported, rowEncoder } from "../db/copy-text.js";
import { forgetPrismaDebugHistory } from "../db/prisma-debug-history.js";
import { execute, type TxLike } from "../db/prisma-like.js";
import type { TablePlan } from "../planner/table-plan.js";
import { type RawBatch, readRecords } from "../sources/read-records.js";
import { transformBatches } from "../steps/transform.js";
import { insertBatch } from "../sql/bulk.js";
import { copyFromStdin } from "../sql/copy.js";
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

/** Sends validated batches, by COPY on the transaction's own connection or as set-based INSERTs, one in flight at a time, and counts what landed. */
class BatchSender {
  inserted = 0;
  batches = 0;
  dbMs = 0;
  private inFlight: Promise<void> | null = null;
  private readonly identity: Set<string>;
  private readonly encoders = new Map<string, (rows: readonly Row[]) => string>();

  constructor(
    private readonly tx: TxLike,
    private readonly source: TablePlan,
    private readonly target: QualifiedName,
    /** The transaction's `pg` client when the table loads by COPY; null: INSERT … SELECT. */
    private readonly copy: pg.PoolClient | null,
    private readonly onBatch: ((rows: number, batchNo: number) => Promise<void> | void) | undefined,
  ) {
    this.identity = new Set(source.info.columns.filter((c) => c.isIdentity).map((c) => c.name));
  }

  /**
   * Waits for the batch before, then puts this one on the wire without waiting for it to
   * finish. A COPY sends its data only after the server's answer to the COPY statement: wait
   * until the data is out, or the server would sit idle while the next batch is parsed.
   */
  async send(rows: Row[], firstIndex: number): Promise<void> {
    await this.settled();
    let onWire: () => void = () => undefined;
    const out = new Promise<void>((resolve) => (onWire = resolve));
    const p = this.insert(rows, firstIndex, onWire);
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
    for (const g of groupByDefaults(this.source.info, rows)) {
      const sent = performance.now();
      try {
        this.inserted += this.copy ? await this.copyGroup(this.copy, g.columns, g.rows, onWire) : await this.insertGroup(g.columns, g.rows);
        this.dbMs += performance.now() - sent;
      } catch (e) {
        throw new BatchInsertFailure(this.source, firstIndex, rows, e, this.copy ? recordOfLine(e, rows, g.rows, firstIndex) : null);
      } finally {
        forgetPrismaDebugHistory();
      }
    }
    this.batches++;
    await this.onBatch?.(rows.length, this.batches);
  }

  private insertGroup(columns: string[], rows: Row[]): Promise<number> {
    const overriding = columns.some((c) => this.identity.has(c));
    return execute(this.tx, insertBatch(this.target, this.target, columns, rowsJson(rows), overriding));
  }

  /** COPY writes identity columns as given (as INSERT's OVERRIDING SYSTEM VALUE does). */
  private copyGroup(client: pg.PoolClient, columns: string[], rows: Row[], onWire: () => void): Promise<number> {
    const key = columns.join("\u0000");
    let encode = this.encoders.get(key);
    if (!encode) this.encoders.set(key, (encode = rowEncoder(this.source.info, columns)));
    return copyIn(client, copyFromStdin(this.target, columns), encode(rows), onWire);
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
  const validator = validatorFor(source);
  let records = 0;
  let bytes = 0;
  const copy = await copyClientFor(tx, source);
  const sender: BatchSender = new BatchSender(tx, source, target, copy, (rows, batch) =>
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
    generatedSkipped: Object.fromEntries(validator.generatedSkipped),
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
