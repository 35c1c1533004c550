import { createHash } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";

const NL = 0x0a;
const OPEN = Buffer.from("[\n");
const SEP = Buffer.from(",\n");
const CLOSE = Buffer.from("\n]\n");
const CLOSE_EMPTY = Buffer.from("]\n");

/**
 * Writes one release file from JSON lines: NDJSON as they come, or a JSON array (the
 * format is the file's extension, as `import` reads it). Counts rows and bytes and hashes
 * what it writes (sha256), honouring the file stream's backpressure.
 */
export class JsonSink {
  rows = 0;
  bytes = 0;
  private readonly hash = createHash("sha256");
  private readonly out: WriteStream;
  private atLineStart = true;
  private failure: Error | null = null;

  constructor(
    readonly path: string,
    private readonly array: boolean,
  ) {
    this.out = createWriteStream(path, { flags: "wx", mode: 0o600 });
    // a write error (disk full, a destroyed stream's pending writes) surfaces on the next write, never as an unhandled event
    this.out.on("error", (e) => {
      this.failure ??= e;
    });
  }

  private async put(b: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (b.length === 0) return;
    this.hash.update(b);
    this.bytes += b.length;
    if (!this.out.write(b)) await once(this.out, "drain");
  }

  async open(): Promise<void> {
    await once(this.out, "open");
    if (this.array) await this.put(OPEN);
  }

  /** One row's JSON text (no newline). */
  async line(text: string): Promise<void> {
    if (this.array && this.rows > 0) await this.put(SEP);
    this.rows++;
    await this.put(Buffer.from(this.array ? text : `${text}\n`));
  }

  /** A chunk of newline-terminated JSON lines (COPY output), passed through without parsing. */
  async chunk(c: Buffer): Promise<void> {
    if (!this.array) {
      for (let i = c.indexOf(NL); i >= 0; i = c.indexOf(NL, i + 1)) this.rows++;
      await this.put(c);
      return;
    }
    let from = 0;
    for (let nl = c.indexOf(NL); nl >= 0; nl = c.indexOf(NL, from)) {
      if (this.atLineStart && this.rows > 0) await this.put(SEP);
      await this.put(c.subarray(from, nl));
      this.rows++;
      this.atLineStart = true;
      from = nl + 1;
    }
    if (from < c.length) {
      if (this.atLineStart && this.rows > 0) await this.put(SEP);
      this.atLineStart = false;
      await this.put(c.subarray(from));
    }
  }

  /** Flushes and closes the file; resolves with its sha256. */
  async close(): Promise<string> {
    if (this.array) await this.put(this.rows > 0 ? CLOSE : CLOSE_EMPTY);
    this.out.end();
    await once(this.out, "finish");
    if (this.failure) throw this.failure;
    return this.hash.digest("hex");
  }

  destroy(): void {
    this.out.destroy();
  }
}
