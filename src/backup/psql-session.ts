import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { execa, type ResultPromise } from "execa";
import type { TxLike } from "../db/prisma-like.js";
import { libpqEnv, type ResolvedTool } from "./pg-tools.js";

/** How a psql session ended. */
export interface PsqlExit {
  exitCode: number;
  stderr: string;
}

/**
 * One psql process as a scripted session: SQL and pg_restore's output are written to its
 * stdin, and queries (without bind parameters: psql 15 has none) read their rows back from
 * its CSV output between two markers. psql stops at the first error (ON_ERROR_STOP); a
 * session that ends inside a transaction without COMMIT is rolled back by the server.
 * Credentials reach psql through the environment only.
 *
 * @example
 * const s = PsqlSession.open(psql, url);
 * s.write("BEGIN;");
 * const rows = await s.$queryRawUnsafe<{ n: string }[]>("SELECT 1 AS n");
 * await s.finish("COMMIT");
 */
export class PsqlSession implements TxLike {
  private out = "";
  private onOutput: (() => void) | null = null;
  private exit: PsqlExit | null = null;
  private ended = false;
  private readonly tag = randomBytes(6).toString("hex");
  private seq = 0;
  private readonly done: Promise<PsqlExit>;

  private constructor(private readonly proc: ResultPromise<{ stdin: "pipe"; reject: false; env: Record<string, string> }>) {
    proc.stdin.on("error", () => undefined); // psql stopped reading: its exit code says why
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (chunk: string) => {
      this.out += chunk;
      this.onOutput?.();
    });
    this.done = proc.then((r) => {
      this.exit = { exitCode: r.exitCode ?? 1, stderr: String(r.stderr ?? "") };
      this.onOutput?.();
      return this.exit;
    });
  }

  /** Starts psql on `url`; `env` adds libpq variables (e.g. PGOPTIONS). */
  static open(psql: ResolvedTool, url: string, env: Record<string, string> = {}): PsqlSession {
    const proc = execa(psql.path, ["-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-f", "-"], {
      env: { ...libpqEnv(url), ...env },
      stdin: "pipe",
      reject: false,
    });
    return new PsqlSession(proc);
  }

  /** Sends SQL without waiting for it: an error ends the session. */
  write(sql: string): void {
    if (!this.exit && !this.ended) this.proc.stdin.write(`${sql}\n`);
  }

  /** Streams `source` (e.g. pg_restore's stdout) into the session; resolves when it ends or psql exits. */
  async pipeFrom(source: Readable): Promise<void> {
    source.pipe(this.proc.stdin, { end: false });
    await new Promise<void>((resolve) => {
      source.once("end", resolve);
      source.once("error", () => resolve());
      void this.done.then(() => {
        source.unpipe(this.proc.stdin);
        source.resume(); // never leave the producer blocked on a full pipe
        resolve();
      });
    });
  }

  async $queryRawUnsafe<T = unknown>(text: string, ...values: unknown[]): Promise<T> {
    if (values.length) throw new Error("a psql session takes no bind parameters");
    const n = ++this.seq;
    const begin = `__atomic_etl_${this.tag}_${n}_begin__`;
    const end = `__atomic_etl_${this.tag}_${n}_end__`;
    this.write(`\\echo ${begin}\n${text.trim().replace(/;$/, "")};\n\\echo ${end}`);
    const block = await this.readBetween(begin, end);
    return parseCsvRows(block) as T;
  }

  async $executeRawUnsafe(text: string, ...values: unknown[]): Promise<number> {
    await this.$queryRawUnsafe(text, ...values);
    return 0;
  }

  /** Ends the session with COMMIT or ROLLBACK (or nothing, letting the server roll back); later calls only wait for the end. */
  async finish(last: "COMMIT" | "ROLLBACK" | null): Promise<PsqlExit> {
    if (!this.ended) {
      if (last) this.write(`${last};`);
      this.ended = true;
      this.proc.stdin.end();
    }
    return this.done;
  }

  private readBetween(begin: string, end: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const b = this.out.indexOf(`${begin}\n`);
        const e = this.out.indexOf(`${end}\n`);
        if (b >= 0 && e > b) {
          const block = this.out.slice(b + begin.length + 1, e);
          this.out = this.out.slice(e + end.length + 1);
          this.onOutput = null;
          resolve(block);
        } else if (this.exit) {
          this.onOutput = null;
          reject(new Error(`psql ended (exit ${this.exit.exitCode}): ${this.exit.stderr.trim().split("\n").slice(-3).join(" ")}`));
        }
      };
      this.onOutput = check;
      check();
    });
  }
}

/**
 * psql's `--csv` output (a header line, then rows) as objects of strings; NULL is `null`.
 *
 * @example parseCsvRows('rows,hash\n3,"12"\n') // => [{ rows: "3", hash: "12" }]
 */
export function parseCsvRows(csv: string): Record<string, string | null>[] {
  const records: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let field = "";
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < csv.length; i++) {
    const ch = csv[i] as string;
    if (quoted) {
      if (ch === '"' && csv[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') {
      quoted = true;
      wasQuoted = true;
    } else if (ch === "," || ch === "\n") {
      row.push(field === "" && !wasQuoted ? null : field);
      field = "";
      wasQuoted = false;
      if (ch === "\n") {
        records.push(row);
        row = [];
      }
    } else field += ch;
  }
  if (field !== "" || wasQuoted || row.length) {
    row.push(field === "" && !wasQuoted ? null : field);
    records.push(row);
  }
  const [header, ...rows] = records;
  if (!header) return [];
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h ?? "", r[i] ?? null])));
}
