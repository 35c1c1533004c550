/**
 * The messages between the loader and its parse workers (parse-pool.ts ↔ parse-worker.ts),
 * and how an error crosses the thread boundary: an EtlError keeps its code, message and
 * details (file, record, field, meta, next), so a refusal found in a worker reads exactly
 * as one found on the main thread.
 */
import { type ErrorCode, EtlError, type EtlErrorDetails } from "../errors.js";
import type { TextBatch } from "../sources/read-records.js";
import type { TableInfo } from "../sql/catalog.js";
import type { KeyMode, TableMapping } from "../validation/table-mapping.js";

/** What a worker needs to validate and encode one table's records (structured-cloneable: no functions). */
export interface TableSetup {
  mapping: TableMapping;
  info: TableInfo;
  file: string;
  keys: "auto" | KeyMode;
  unknownKeys: "error" | "ignore";
  /** The `@updatedAt` value every worker of the table fills in. */
  updatedAt: string;
  /** Report the columns the records mention (merge). */
  trackColumns: boolean;
}

export type ToWorker =
  | { kind: "table"; table: number; setup: TableSetup }
  | { kind: "batch"; table: number; seq: number; batch: TextBatch }
  | { kind: "end"; table: number };

/** A batch as COPY text, one group per set of defaulted columns (see copy-batch.ts). */
export interface EncodedBatch {
  groups: { columns: string[]; text: string; count: number }[];
  keyMode: KeyMode | null;
  /** The worker's validator's counts so far (cumulative). */
  generatedSkipped: [string, number][];
  columns: string[] | null;
}

export type FromWorker =
  ({ kind: "done"; table: number; seq: number } & EncodedBatch) | { kind: "failed"; table: number; seq: number; error: SerializedError };

export type SerializedError =
  | { etl: true; code: ErrorCode; message: string; details: Omit<EtlErrorDetails, "cause"> }
  | { etl: false; message: string; stack: string | undefined };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof EtlError) {
    const { cause: _cause, ...details } = e.details();
    return { etl: true, code: e.code, message: e.message, details };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { etl: false, message: err.message, stack: err.stack };
}

export function deserializeError(s: SerializedError): Error {
  if (s.etl) return new EtlError(s.code, s.message, s.details);
  return new EtlError("INTERNAL", `a parse worker failed: ${s.message}`, { step: "load", meta: { stack: s.stack } });
}
