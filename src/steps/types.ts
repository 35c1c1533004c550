import type { Logger } from "pino";
import type { TxLike } from "../db/prisma-like.js";

/** A record as a step or a transform hands it over: keyed by Prisma field names or column names, as a file would be. */
export type StepRecord = Record<string, unknown>;

/** What `load()` did: the rows it inserted, in how many batches. */
export interface StepLoadResult {
  table: string;
  records: number;
  rows: number;
  batches: number;
}

/**
 * What a step is given. `tx` is the run's own interactive transaction: the one the files load
 * in. With {@link defineConfig} it is typed as your Prisma client's transaction client
 * (`tx.player.upsert(…)` type-checks); untyped it is the raw-SQL shape.
 */
export interface StepContext<Tx = TxLike> {
  tx: Tx;
  /**
   * Streams records into a table the step declares in `writes`, through the same validation
   * and batch INSERT path as a file: a bad record is refused naming the step and its 0-based
   * index in `records`. Rows are added (INSERT); nothing is cleared first.
   */
  load(table: string, records: Iterable<StepRecord> | AsyncIterable<StepRecord>): Promise<StepLoadResult>;
  /** The run's logger, bound to the step. */
  log: Logger;
  /** The environment the run targets (`local`, `staging`, `production`, …). */
  env: string;
  /** The release's name (`etl.run`'s `name`). */
  release: string;
  /** Aborted when the run is asked to stop (Ctrl-C, SIGTERM): a long step may check it. */
  signal: AbortSignal | undefined;
}

/**
 * A step's function. Declared through a method so that a step typed with a narrower `tx`
 * (the user's client) still fits the untyped config (parameter bivariance).
 */
export type StepFn<Tx = TxLike> = { bivariance(ctx: StepContext<Tx>): Promise<void> | void }["bivariance"];

/** Where the record a transform sees comes from. */
export interface TransformContext {
  /** 0-based index of the record in its file. */
  index: number;
  /** The file, by its path from the config file's folder (as errors and the ledger name it). */
  file: string;
  /** The target table. */
  table: string;
  /** Its Prisma model, or null for a table without one. */
  model: string | null;
}

/** A table's transform: the record to validate, several (a split), or null (dropped). */
export type TransformFn = (record: StepRecord, ctx: TransformContext) => StepRecord | StepRecord[] | null | undefined;
