import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import type pg from "pg";
import { EtlError } from "../errors.js";
import { to as copyTo } from "pg-copy-streams";
import { copyTableText, rowsByIds } from "../sql/sample-statements.js";
import { formatOf } from "../sources/read-records.js";
import { type CopyPart, partFile } from "./copy-parts.js";
import { kindOf, lineEncoder } from "./copy-json.js";
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
  /** The part of a split table this file is (see copy-parts.ts); undefined for a whole table. */
  part?: number;
  durationMs: number;
}

/**
 * COPY text lines in, JSON rows out (masked when a masker is given), handed to the sink in
 * blocks of about 64 KB instead of one write per row. Small blocks die young: at 1 MB the
 * rows outlived the young generation and GC took 37% of an export (1M rows: 4.2 s → 2.7 s).
 */
async function copyToJson(
  stream: AsyncIterable<Buffer>,
  t: TablePlan,
  sink: JsonSink,
  masker: RowMasker | null,
  onRows?: (n: number) => void,
): Promise<void> {
  const encode = lineEncoder(t.table.columns.filter((c) => !c.isGenerated));
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let block: string[] = [];
  let chars = 0;
  // progress (and the memory budget's check, an RSS read) once per ~1 MB, not per block
  let unreported = 0;
  let unreportedChars = 0;
  const flush = async (last = false) => {
    if (block.length) {
      await sink.lines(block);
      unreported += block.length;
      unreportedChars += chars;
      block = [];
      chars = 0;
    }
    if (unreported && (last || unreportedChars >= 1 << 20)) {
      onRows?.(unreported);
      unreported = 0;
      unreportedChars = 0;
    }
  };
  const one = async (line: string) => {
    const json = encode(line);
    const row = masker ? masker.maskLine(json) : json;
    block.push(row);
    if ((chars += row.length) >= 1 << 16) await flush();
  };
  for await (const chunk of stream) {
    const text = rest + decoder.write(chunk);
    let from = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
      await one(text.slice(from, nl));
      from = nl + 1;
    }
    rest = text.slice(from);
  }
  rest += decoder.end();
  if (rest) await one(rest);
  await flush(true);
}

/**
 * Streams one table's rows from the snapshot into its release file: a whole table through
 * `COPY … TO STDOUT` in text format, turned into JSON here (copy-json.ts), a keyed table by
 * its row ids in batches (a TID range scan each, JSON from the server). Memory stays bounded by one batch or one COPY chunk.
 */
export async function writeTable(
  client: pg.Client,
  t: TablePlan,
  set: RowSet | null,
  opts: { dir: string; batchSize: number; masker: RowMasker | null; onRows?: (n: number) => void; part?: CopyPart },
): Promise<WrittenTable> {
  const t0 = performance.now();
  // a part of a split table is written as a part (unframed, unhashed); assembleParts() joins the parts into the release file
  const file = opts.part ? partFile(t.file, opts.part.index) : t.file;
  const sink = new JsonSink(path.join(opts.dir, file), formatOf(t.file) === "json", opts.part !== undefined);
  const masker = opts.masker?.active ? opts.masker : null;
  try {
    await sink.open();
    if (!set) {
      const stream = client.query(copyTo(copyTableText(t.table, opts.part ?? null, (c) => kindOf(c) !== null).text));
      await copyToJson(stream, t, sink, masker, opts.onRows);
    } else {
      for (const { leaf, ids } of set.batches(opts.batchSize)) {
        // a partitioned table's ids are per partition: each batch is of one partition, read through the parent
        const s = rowsByIds(t.table, ids, t.table.partitioned ? set.oidOf(leaf) : undefined);
        const r = await client.query<{ j: string }>(s.text, s.values);
        if (r.rows.length !== ids.length) {
          // the snapshot keeps every row the closure saw: anything else is a bug here, never a partial release
          throw new EtlError("INTERNAL", `${t.table.name}: ${ids.length} row ids read back as ${r.rows.length} rows`, {
            step: "write",
            table: t.table.name,
          });
        }
        await sink.lines(r.rows.map((row) => (masker ? masker.maskLine(row.j) : row.j)));
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
      part: opts.part?.index,
      durationMs: Math.round(performance.now() - t0),
    };
  } catch (e) {
    sink.destroy();
    throw e;
  }
}
