import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { EtlError } from "../errors.js";
import type { TextBatch } from "../sources/read-records.js";
import type { KeyMode } from "../validation/table-mapping.js";
import { deserializeError, type EncodedBatch, type FromWorker, type TableSetup, type ToWorker } from "./parse-protocol.js";

/**
 * The loader's parse workers (worker_threads): the main thread reads a file and finds its
 * records (the scanner), a worker parses, validates and encodes each batch to COPY text
 * (parse-worker.ts), and the main thread writes the batches to the COPY in file order. On
 * this project's 2-core machine that moves about half the client's work off the thread that
 * feeds the server (README, "Benchmarks").
 *
 * The workers are started on first use, shared by every table of the process, and unref'd
 * while idle, so they never keep a finished process alive.
 */
class ParseWorker {
  readonly worker: Worker;
  private readonly waiting = new Map<string, { resolve: (b: EncodedBatch) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;

  constructor() {
    const source = import.meta.url.endsWith(".ts");
    const url = new URL(source ? "./parse-worker.ts" : "./parse-worker.js", import.meta.url);
    // from source (tests, tsx): the worker needs tsx's loader too; the built package runs plain .js
    const execArgv = source ? ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href] : [];
    this.worker = new Worker(url, { execArgv });
    this.worker.unref();
    this.worker.on("message", (m: FromWorker) => {
      const key = `${m.table}:${m.seq}`;
      const w = this.waiting.get(key);
      if (!w) return;
      this.waiting.delete(key);
      this.idleCheck();
      if (m.kind === "done") w.resolve(m);
      else w.reject(deserializeError(m.error));
    });
    const fail = (e: Error) => {
      this.dead = new EtlError("INTERNAL", `a parse worker stopped: ${e.message}`, { step: "load", cause: e });
      for (const w of this.waiting.values()) w.reject(this.dead);
      this.waiting.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`exit code ${code}`)));
  }

  post(m: ToWorker): void {
    if (this.dead) throw this.dead;
    this.worker.postMessage(m);
  }

  /** Sends one batch; resolves with its COPY text, or rejects with the error that refused it. */
  batch(table: number, seq: number, batch: TextBatch): Promise<EncodedBatch> {
    if (this.dead) return Promise.reject(this.dead);
    const p = new Promise<EncodedBatch>((resolve, reject) => this.waiting.set(`${table}:${seq}`, { resolve, reject }));
    if (this.waiting.size === 1) this.worker.ref();
    this.worker.postMessage({ kind: "batch", table, seq, batch } satisfies ToWorker);
    return p;
  }

  private idleCheck(): void {
    if (this.waiting.size === 0) this.worker.unref();
  }

  get alive(): boolean {
    return this.dead === null;
  }
}

const workers: ParseWorker[] = [];
let tables = 0;

function worker(i: number): ParseWorker {
  let w = workers[i];
  if (!w?.alive) workers[i] = w = new ParseWorker();
  return w;
}

/**
 * One table's batches through `n` workers, in turn. The first batch goes alone, so that the
 * key mode its first record decides (fields or columns) holds for every worker, as it would
 * for one validator. {@link generatedSkipped} sums the workers' counts.
 */
export class TableParse {
  private readonly id = ++tables;
  private readonly used: ParseWorker[] = [];
  private seq = 0;
  private first: Promise<EncodedBatch> | null = null;
  private keyMode: KeyMode | null = null;
  private readonly skipped = new Map<number, [string, number][]>();

  constructor(
    readonly setup: TableSetup,
    private readonly n: number,
  ) {}

  /** Starts parsing `batch`; batches must be given in file order. */
  async parse(batch: TextBatch): Promise<EncodedBatch> {
    const seq = this.seq++;
    const slot = seq % this.n;
    if (seq === 0) {
      this.first = this.start(slot, this.setup.keys)
        .batch(this.id, seq, batch)
        .then((b) => this.track(slot, b));
      return this.first;
    }
    // the other workers start with the key mode the first batch decided
    if (this.n > 1) await this.first?.catch(() => undefined);
    const w = this.used[slot] ?? this.start(slot, this.keyMode ?? this.setup.keys);
    return this.track(slot, await w.batch(this.id, seq, batch));
  }

  /** Key mode the first record decided; known once the first batch is parsed. */
  get mode(): KeyMode | null {
    return this.keyMode;
  }

  /** Per generated column, how many records carried a value for it, over every worker. */
  generatedSkipped(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const list of this.skipped.values()) for (const [c, k] of list) out[c] = (out[c] ?? 0) + k;
    return out;
  }

  /** Frees the table's state in its workers. */
  end(): void {
    for (const w of this.used) if (w.alive) w.post({ kind: "end", table: this.id });
  }

  private start(slot: number, keys: TableSetup["keys"]): ParseWorker {
    const w = worker(slot);
    w.post({ kind: "table", table: this.id, setup: { ...this.setup, keys } });
    this.used[slot] = w;
    return w;
  }

  private track(slot: number, b: EncodedBatch): EncodedBatch {
    this.keyMode ??= b.keyMode;
    this.skipped.set(slot, b.generatedSkipped);
    return b;
  }
}
