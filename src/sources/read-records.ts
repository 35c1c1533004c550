import { createReadStream } from "node:fs";
import { EtlError } from "../errors.js";
import { JsonArrayScanner, type ScanProblem } from "./json-array-scanner.js";
import { quoteLongNumbers } from "./long-numbers.js";

export type SourceFormat = "json" | "ndjson";

/** A batch of parsed records, in file order. */
export interface RawBatch {
  /** 0-based index, in the file, of `records[0]`. */
  firstIndex: number;
  records: unknown[];
}

export function formatOf(file: string): SourceFormat {
  return /\.(ndjson|jsonl)$/i.test(file) ? "ndjson" : "json";
}

function malformed(file: string, record: number | undefined, reason: string, meta: Record<string, unknown>): EtlError {
  return new EtlError("INPUT_MALFORMED", `${file}: ${reason}`, { step: "load", file, record, meta });
}

function describeProblem(p: ScanProblem): string {
  switch (p.kind) {
    case "not-array":
      return `expected a JSON array ("[") at char ${p.offset}, found ${JSON.stringify(p.found)}`;
    case "empty-element":
      return `empty element (a stray or trailing comma) at char ${p.offset}`;
    case "trailing-garbage":
      return `unexpected text after an element at char ${p.offset}: ${JSON.stringify(p.found)}`;
    case "truncated":
      return `the file ends before the JSON array is closed (truncated?) at char ${p.offset}`;
  }
}

const LONG_RUN = /[\d.]{16}/;

function parseOne(file: string, text: string, index: number, where: string, prechecked: boolean): unknown {
  try {
    return JSON.parse(prechecked || !LONG_RUN.test(text) ? text : quoteLongNumbers(text));
  } catch (e) {
    throw malformed(file, index, `record #${index} (${where}) is not valid JSON: ${(e as Error).message}`, {
      snippet: text.length > 120 ? `${text.slice(0, 120)}…` : text,
    });
  }
}

/**
 * Streams a JSON array or NDJSON file as batches of parsed records. Memory stays bounded
 * by the batch size, whatever the file size.
 *
 * @example for await (const b of readRecords("players.json", { batchSize: 5000 })) …
 */
export async function* readRecords(
  file: string,
  opts: {
    batchSize: number;
    /** A batch also closes once its records' JSON text reaches this many characters (≈ bytes): wide rows make smaller batches. */
    maxBatchBytes?: number;
    format?: SourceFormat;
    highWaterMark?: number;
    onBytes?: (n: number) => void;
    label?: string;
  },
): AsyncGenerator<RawBatch> {
  const format = opts.format ?? formatOf(file);
  // errors name the file as people know it (relative to the project), not the absolute path
  const shown = opts.label ?? file;
  const stream = createReadStream(file, { encoding: "utf8", highWaterMark: opts.highWaterMark ?? 1 << 20 });
  let index = 0;
  let batch: unknown[] = [];
  let batchChars = 0;
  const maxChars = opts.maxBatchBytes ?? Infinity;
  const full = (text: string) => (batchChars += text.length) >= maxChars || batch.length >= opts.batchSize;
  let sawAny = false;
  try {
    if (format === "json") {
      const scanner = new JsonArrayScanner();
      const texts: string[] = [];
      for await (const chunk of stream as AsyncIterable<string>) {
        if (chunk.length) sawAny = true;
        opts.onBytes?.(Buffer.byteLength(chunk));
        scanner.push(chunk, texts);
        for (const t of texts) {
          batch.push(parseOne(shown, t, index, "array element", true));
          index++;
          if (full(t)) {
            yield { firstIndex: index - batch.length, records: batch };
            batch = [];
            batchChars = 0;
          }
        }
        texts.length = 0;
        if (scanner.problem) throw malformed(shown, index, describeProblem(scanner.problem), { offset: scanner.problem.offset });
      }
      if (!sawAny) throw malformed(shown, undefined, "the file is empty; a release file must hold a JSON array (use [] for no rows)", {});
      scanner.end();
      if (scanner.problem) throw malformed(shown, index, describeProblem(scanner.problem), { offset: scanner.problem.offset });
    } else {
      let rest = "";
      let line = 0;
      for await (const chunk of stream as AsyncIterable<string>) {
        opts.onBytes?.(Buffer.byteLength(chunk));
        const text = rest + chunk;
        let from = 0;
        for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
          line++;
          const l = text.slice(from, nl).trim();
          from = nl + 1;
          if (!l) continue;
          batch.push(parseOne(shown, l, index, `line ${line}`, false));
          index++;
          if (full(l)) {
            yield { firstIndex: index - batch.length, records: batch };
            batch = [];
            batchChars = 0;
          }
        }
        rest = text.slice(from);
      }
      const l = rest.trim();
      if (l) {
        line++;
        batch.push(parseOne(shown, l, index, `line ${line}`, false));
        index++;
      }
    }
  } catch (e) {
    if (e instanceof EtlError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new EtlError("INPUT_UNREADABLE", `${shown}: cannot read (${err.code ?? err.message})`, {
      step: "load",
      file: shown,
      cause: e,
    });
  } finally {
    stream.destroy();
  }
  if (batch.length) yield { firstIndex: index - batch.length, records: batch };
}
