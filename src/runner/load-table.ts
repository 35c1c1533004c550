import type { z } from "zod";
import { forgetPrismaDebugHistory } from "../db/prisma-debug-history.js";
import { execute, type TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { readRecords } from "../sources/read-records.js";
import type { TableInfo } from "../sql/catalog.js";
import type { QualifiedName } from "../sql/quote.js";
import { insertBatch } from "../sql/statements.js";
import { RecordValidator } from "../validation/record-validator.js";
import type { MemoryBudget } from "./memory-budget.js";
import type { KeyMode, TableMapping } from "../validation/table-mapping.js";

export interface TableSource {
  info: TableInfo;
  mapping: TableMapping;
  /** Absolute path. */
  path: string;
  /** As shown to people (relative to the project). */
  file: string;
  batchSize: number;
  /** See readRecords. */
  maxBatchBytes: number;
  keys: "auto" | KeyMode;
  userSchema: z.ZodType | undefined;
  unknownKeys: "error" | "ignore";
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
  /** Time spent waiting on the INSERT statements (client-observed database time). */
  dbMs: number;
}

/** A batch INSERT that Postgres refused; diagnosed after rollback (see diagnose.ts). */
export class BatchInsertFailure extends Error {
  constructor(
    readonly source: TableSource,
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
function groupByDefaults(info: TableInfo, rows: Row[]): { columns: string[]; rows: Row[] }[] {
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

/**
 * Streams one file into `target` in batches: parse → validate → one set-based INSERT per
 * batch. Parsing and validating batch n+1 overlaps the INSERT of batch n.
 */
export async function loadTable(
  tx: TxLike,
  source: TableSource,
  target: QualifiedName,
  opts: { onBatch?: (rows: number, batchNo: number) => Promise<void> | void; memory?: MemoryBudget } = {},
): Promise<TableLoadResult> {
  const started = performance.now();
  const { info } = source;
  const validator = new RecordValidator(source.mapping, info, source.file, source.keys, source.userSchema, source.unknownKeys);
  const identity = new Set(info.columns.filter((c) => c.isIdentity).map((c) => c.name));
  let records = 0;
  let inserted = 0;
  let batches = 0;
  let bytes = 0;
  let inFlight: Promise<void> | null = null;
  let dbMs = 0;

  const send = async (rows: Row[], firstIndex: number) => {
    for (const g of groupByDefaults(info, rows)) {
      const stmt = insertBatch(
        target,
        target,
        g.columns,
        JSON.stringify(g.rows),
        g.columns.some((c) => identity.has(c)),
      );
      const sent = performance.now();
      try {
        inserted += await execute(tx, stmt);
        dbMs += performance.now() - sent;
      } catch (e) {
        throw new BatchInsertFailure(source, firstIndex, rows, e);
      } finally {
        forgetPrismaDebugHistory();
      }
    }
    batches++;
    await opts.onBatch?.(rows.length, batches);
  };

  try {
    for await (const batch of readRecords(source.path, {
      batchSize: source.batchSize,
      maxBatchBytes: source.maxBatchBytes,
      onBytes: (n) => (bytes += n),
      label: source.file,
    })) {
      const rows = validator.validate(batch.records, batch.firstIndex);
      records += rows.length;
      // while the server still works on the previous batch
      opts.memory?.check();
      if (inFlight) await inFlight;
      inFlight = send(rows, batch.firstIndex);
      inFlight.catch(() => undefined); // handled when awaited; keeps Node from flagging it meanwhile
      // Let Prisma's promise chain put the INSERT on the wire before parsing the next batch
      // takes the thread; without it the two ran one after the other (measured 1.4x slower).
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (e) {
    // The INSERT in flight holds earlier records: let it settle before the rollback, and
    // report its failure first, as the first problem in file order.
    if (inFlight) await inFlight;
    throw e;
  }
  if (inFlight) await inFlight;
  if (inserted !== records) {
    throw new EtlError(
      "ROW_COUNT_MISMATCH",
      `${source.file}: read ${records} records but ${inserted} rows were inserted into ${info.name}`,
      {
        step: "validate",
        table: info.name,
        file: source.file,
        next: "look for triggers or rules on the table that drop or add rows",
      },
    );
  }
  return {
    table: info.name,
    file: source.file,
    keyMode: validator.keyMode,
    records,
    rowsInserted: inserted,
    batches,
    bytes,
    durationMs: Math.round(performance.now() - started),
    dbMs: Math.round(dbMs),
  };
}
