import { createReadStream } from "node:fs";
import { EtlError } from "../errors.js";
import { JsonArrayScanner, type ScanProblem } from "./json-array-scanner.js";
import { type LineFacts, lineFacts } from "./line-facts.js";
import { quoteLongNumbers } from "./long-numbers.js";
import { mayRepeatKeys } from "./repeated-keys.js";
import { type DecodedChunk, decodeStrictUtf8 } from "./utf8.js";

export type SourceFormat = "json" | "ndjson";

/** A batch of parsed records, in file order. */
export interface RawBatch {
  /** 0-based index, in the file, of `records[0]`. */
  firstIndex: number;
  records: unknown[];
  /** Each record's JSON text as written in the file (long numbers not quoted): the raw values of json/jsonb columns. */
  texts: string[];
  /** Indexes into `records` of the records in which a key may repeat (see repeated-keys.ts); the validator decides. */
  mayRepeat: number[];
  /** Each record's index in the file when they are not consecutive from `firstIndex` (a table transform split or dropped records). */
  indexes?: number[];
}

export function formatOf(file: string): SourceFormat {
  return /\.(ndjson|jsonl)$/i.test(file) ? "ndjson" : "json";
}

function malformed(file: string, record: number | undefined, reason: string, meta: Record<string, unknown>): EtlError {
  return new EtlError("INPUT_MALFORMED", `${file}: ${reason}`, { step: "load", file, record, meta });
}

function invalidUtf8(file: string, record: number, bad: NonNullable<DecodedChunk["invalid"]>, where: string): EtlError {
  return new EtlError(
    "INPUT_MALFORMED",
    `${file}: invalid UTF-8 at byte ${bad.offset} (record #${record}${where}): ${bad.bytes} is not a UTF-8 sequence (the file must be UTF-8)`,
    {
      step: "load",
      file,
      record,
      meta: { offset: bad.offset, bytes: bad.bytes },
      next: "export the file as UTF-8 (a release file is read as UTF-8 only; e.g. iconv -f latin1 -t utf-8)",
    },
  );
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

/** Collects parsed records into batches that close at `batchSize` records or `maxChars` of text. */
class Batcher {
  private records: unknown[] = [];
  private texts: string[] = [];
  private mayRepeat: number[] = [];
  private chars = 0;
  /** Records read so far: the index of the next one. */
  index = 0;

  constructor(
    private readonly file: string,
    private readonly batchSize: number,
    private readonly maxChars: number,
  ) {}

  /** Parses one record's text, whose facts the scanner or lineFacts found, and adds it; returns the batch when it is full. */
  add(text: string, where: string, facts: LineFacts): RawBatch | null {
    let value: unknown;
    try {
      value = JSON.parse(facts.long ? quoteLongNumbers(text) : text);
    } catch (e) {
      throw malformed(this.file, this.index, `record #${this.index} (${where}) is not valid JSON: ${(e as Error).message}`, {
        snippet: text.length > 120 ? `${text.slice(0, 120)}…` : text,
      });
    }
    if (mayRepeatKeys(value, facts.members)) this.mayRepeat.push(this.records.length);
    this.records.push(value);
    this.texts.push(text);
    this.index++;
    return (this.chars += text.length) >= this.maxChars || this.records.length >= this.batchSize ? this.take() : null;
  }

  /** The records collected since the last batch, or null when there are none. */
  take(): RawBatch | null {
    if (!this.records.length) return null;
    const b: RawBatch = {
      firstIndex: this.index - this.records.length,
      records: this.records,
      texts: this.texts,
      mayRepeat: this.mayRepeat,
    };
    this.records = [];
    this.texts = [];
    this.mayRepeat = [];
    this.chars = 0;
    return b;
  }
}

type Chunks = AsyncIterable<DecodedChunk>;

async function* readJsonArray(chunks: Chunks, shown: string, out: Batcher): AsyncGenerator<RawBatch> {
  const scanner = new JsonArrayScanner();
  const texts: string[] = [];
  const long: boolean[] = [];
  const colons: number[] = [];
  let sawAny = false;
  const problem = (p: ScanProblem) => malformed(shown, out.index, describeProblem(p), { offset: p.offset });
  for await (const chunk of chunks) {
    if (chunk.text.length) sawAny = true;
    scanner.push(chunk.text, texts, long, colons);
    for (let i = 0; i < texts.length; i++) {
      const t = texts[i] as string;
      const b = out.add(t, "array element", { members: colons[i] as number, long: long[i] as boolean });
      if (b) yield b;
    }
    texts.length = 0;
    long.length = 0;
    colons.length = 0;
    if (scanner.problem) throw problem(scanner.problem);
    if (chunk.invalid) throw invalidUtf8(shown, out.index, chunk.invalid, "");
  }
  if (!sawAny) throw malformed(shown, undefined, "the file is empty; a release file must hold a JSON array (use [] for no rows)", {});
  scanner.end();
  if (scanner.problem) throw problem(scanner.problem);
}

async function* readNdjson(chunks: Chunks, shown: string, out: Batcher): AsyncGenerator<RawBatch> {
  let rest = "";
  let line = 0;
  for await (const chunk of chunks) {
    const text = rest + chunk.text;
    let from = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
      line++;
      const l = text.slice(from, nl).trim();
      from = nl + 1;
      if (!l) continue;
      const b = out.add(l, `line ${line}`, lineFacts(l));
      if (b) yield b;
    }
    rest = text.slice(from);
    if (chunk.invalid) throw invalidUtf8(shown, out.index, chunk.invalid, `, line ${line + 1}`);
  }
  const l = rest.trim();
  const b = l ? out.add(l, `line ${line + 1}`, lineFacts(l)) : null;
  if (b) yield b;
}

/**
 * Streams a JSON array or NDJSON file as batches of parsed records. Memory stays bounded
 * by the batch size, whatever the file size. The file must be UTF-8: an ill-formed byte
 * sequence is INPUT_MALFORMED with its byte offset, never a replacement character.
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
  // errors name the file by its path from the config file's folder (label), not the absolute path
  const shown = opts.label ?? file;
  const stream = createReadStream(file, { highWaterMark: opts.highWaterMark ?? 1 << 20 });
  const chunks = decodeStrictUtf8(stream as AsyncIterable<Buffer>, opts.onBytes);
  const out = new Batcher(shown, opts.batchSize, opts.maxBatchBytes ?? Infinity);
  try {
    yield* format === "json" ? readJsonArray(chunks, shown, out) : readNdjson(chunks, shown, out);
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
  const last = out.take();
  if (last) yield last;
}
