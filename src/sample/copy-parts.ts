import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { formatOf } from "../sources/read-records.js";
import { JsonSink } from "./json-sink.js";

/** One piece of a whole table: the block range [from, to) of its heap, or the whole table. */
export interface CopyPart {
  index: number;
  fromBlock: number;
  /** Exclusive; null = to the end. */
  toBlock: number | null;
}

/** Heap size (pages) at which a whole table is split across the workers sharing the snapshot. */
export const SPLIT_MIN_PAGES = 2048;

/**
 * Block ranges that split a table of `pages` pages into `n` parts of about equal size, the
 * last one open-ended (the snapshot sees no row beyond the size read in it, but the range
 * must not depend on that).
 */
export function splitBlocks(pages: number, n: number): CopyPart[] {
  if (n <= 1 || pages < SPLIT_MIN_PAGES) return [{ index: 0, fromBlock: 0, toBlock: null }];
  const step = Math.ceil(pages / n);
  return Array.from({ length: n }, (_, i) => ({ index: i, fromBlock: i * step, toBlock: i === n - 1 ? null : (i + 1) * step }));
}

export const partFile = (file: string, index: number) => `${file}.part${index}`;

/**
 * Joins a table's parts (unframed, in the release file's own format), in block order, into its
 * release file, hashing what is written; removes the parts. `rows`: each part's row count.
 */
export async function assembleParts(
  dir: string,
  file: string,
  rows: readonly number[],
  onChunk?: () => void,
): Promise<{ rows: number; bytes: number; sha256: string }> {
  const sink = new JsonSink(path.join(dir, file), formatOf(file) === "json");
  try {
    await sink.open();
    for (const [i, n] of rows.entries()) {
      const p = path.join(dir, partFile(file, i));
      if (n > 0) await sink.append(createReadStream(p, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, n, onChunk);
      await rm(p);
    }
    const sha256 = await sink.close();
    return { rows: sink.rows, bytes: sink.bytes, sha256 };
  } catch (e) {
    sink.destroy();
    throw e;
  }
}
