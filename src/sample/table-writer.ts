import path from "node:path";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { copyTableJson, rowsByIds } from "../sql/sample-statements.js";
import { type CopyPart, partFile } from "./copy-parts.js";
import { JsonSink } from "./json-sink.js";
import type { TablePlan } from "./plan-types.js";
import type { RowMasker } from "./row-masker.js";
import type { RowSet } from "./row-set.js";

export interface WrittenTable {
  table: string;
  model: string | null;
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** `copy` (whole table, one COPY) or `keys` (rows by id, in batches). */
  source: "copy" | "keys";
  durationMs: number;
}

const NL = 0x0a;

/** Splits a stream of COPY chunks into lines (for masking). */
async function* lines(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let rest: Buffer | null = null;
  for await (const chunk of chunks) {
    const c: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    let from = 0;
    for (let nl = c.indexOf(NL); nl >= 0; nl = c.indexOf(NL, from)) {
      yield c.toString("utf8", from, nl);
      from = nl + 1;
    }
    rest = from < c.length ? c.subarray(from) : null;
  }
  if (rest?.length) yield rest.toString("utf8");
}

/**
 * Streams one table's rows from the snapshot into its release file: a whole table through
 * `COPY … TO STDOUT` (bytes pass through untouched unless masked), a keyed table by its row
 * ids in batches (a TID scan each). Memory stays bounded by one batch or one COPY chunk.
 */
export async function writeTable(
  client: pg.Client,
  t: TablePlan,
  set: RowSet | null,
  opts: { dir: string; batchSize: number; masker: RowMasker | null; onRows?: (n: number) => void; part?: CopyPart },
): Promise<WrittenTable> {
  const t0 = performance.now();
  // a part of a split table is NDJSON; assembleParts() writes the release file
  const file = opts.part ? partFile(t.file, opts.part.index) : t.file;
  const sink = new JsonSink(path.join(opts.dir, file), !opts.part && !/\.(ndjson|jsonl)$/i.test(t.file));
  const masker = opts.masker?.active ? opts.masker : null;
  try {
    await sink.open();
    if (!set) {
      const stream = client.query(copyTo(copyTableJson(t.table, opts.part ?? null).text));
      if (masker) {
        for await (const l of lines(stream)) {
          await sink.line(masker.maskLine(l));
          if (sink.rows % 5000 === 0) opts.onRows?.(5000);
        }
        opts.onRows?.(sink.rows % 5000);
      } else {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          const before = sink.rows;
          await sink.chunk(chunk);
          opts.onRows?.(sink.rows - before);
        }
      }
    } else {
      for (const ids of set.batches(opts.batchSize)) {
        const s = rowsByIds(t.table, ids);
        const r = await client.query<{ j: string }>(s.text, s.values);
        for (const row of r.rows) await sink.line(masker ? masker.maskLine(row.j) : row.j);
        opts.onRows?.(r.rows.length);
      }
    }
    const sha256 = await sink.close();
    return {
      table: t.table.name,
      model: t.model,
      file: t.file,
      rows: sink.rows,
      bytes: sink.bytes,
      sha256,
      source: set ? "keys" : "copy",
      durationMs: Math.round(performance.now() - t0),
    };
  } catch (e) {
    sink.destroy();
    throw e;
  }
}
