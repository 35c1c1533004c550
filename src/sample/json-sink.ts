import { createHash, type Hash } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";

/** Characters of rows per write (the writers hand over blocks of about 64 KB; a keyed batch may be larger). */
const BLOCK_CHARS = 1 << 20;

const oneLine = (t: string) => (t.includes("\n") || t.includes("\r") ? t.replace(/[\r\n]/g, " ") : t);

/**
 * Writes one release file from rows' JSON texts: NDJSON (one per line) or a JSON array (the
 * format is the file's extension, as `import` reads it). Rows arrive in blocks and are joined
 * here with the format's separators, so a file takes one hash update and one write per block
 * of rows, not per row. Counts rows and bytes and hashes what it writes (sha256), honouring
 * the file stream's backpressure.
 *
 * A split table's parts are written as parts (`part: true`: the rows and their separators,
 * without the array's brackets, and not hashed), so that {@link JsonSink.append} can join
 * them into the release file byte for byte; the release file's hash is taken there.
 */
export class JsonSink {
  rows = 0;
  bytes = 0;
  private readonly hash: Hash | null;
  private readonly out: WriteStream;
  private failure: Error | null = null;

  constructor(
    readonly path: string,
    /** A JSON array (`[`, rows joined by `,\n`, `]`); else NDJSON. */
    private readonly array: boolean,
    private readonly part = false,
  ) {
    this.hash = part ? null : createHash("sha256");
    this.out = createWriteStream(path, { flags: "wx", mode: 0o600 });
    // a write error (disk full, a destroyed stream's pending writes) surfaces on the next write, never as an unhandled event
    this.out.on("error", (e) => {
      this.failure ??= e;
    });
  }

  private async put(b: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (b.length === 0) return;
    this.hash?.update(b);
    this.bytes += b.length;
    if (!this.out.write(b)) await once(this.out, "drain");
  }

  async open(): Promise<void> {
    await once(this.out, "open");
    if (this.array && !this.part) await this.put(Buffer.from("[\n"));
  }

  /**
   * A block of rows, each one row's JSON text. A json value nested in an array or a composite
   * keeps its own text, line breaks included: a JSON array file keeps them as they are, while
   * an NDJSON row must stay on one line, so there a raw line break becomes a space (in valid
   * JSON it can only be whitespace between tokens; inside a string it is escaped).
   */
  async lines(texts: readonly string[]): Promise<void> {
    // one write per ~1 MB: a keyed batch of wide rows must not become one string past V8's limit
    for (let from = 0; from < texts.length;) {
      let to = from;
      for (let chars = 0; to < texts.length && (to === from || chars < BLOCK_CHARS); to++) chars += (texts[to] as string).length;
      const block = texts.slice(from, to);
      const text = this.array ? `${this.rows > 0 ? ",\n" : ""}${block.join(",\n")}` : `${block.map(oneLine).join("\n")}\n`;
      this.rows += block.length;
      await this.put(Buffer.from(text));
      from = to;
    }
  }

  /** Appends a part (see the class comment) of the same format holding `rows` rows (its bytes, streamed). */
  async append(chunks: AsyncIterable<Buffer>, rows: number, onChunk?: () => void): Promise<void> {
    if (rows === 0) return;
    if (this.array && this.rows > 0) await this.put(Buffer.from(",\n"));
    for await (const c of chunks) {
      await this.put(c);
      onChunk?.();
    }
    this.rows += rows;
  }

  /** Flushes and closes the file; resolves with its sha256 (empty for a part). */
  async close(): Promise<string> {
    if (this.array && !this.part) await this.put(Buffer.from(this.rows > 0 ? "\n]\n" : "]\n"));
    // a stream that failed already never emits "finish"
    if (this.failure) throw this.failure;
    this.out.end();
    await once(this.out, "finish");
    if (this.failure) throw this.failure;
    return this.hash?.digest("hex") ?? "";
  }

  destroy(): void {
    this.out.destroy();
  }
}
