/**
 * `npx tsx bench/worker-split.ts [--rows 1000000] [--runs 3] [--batch 5000]`: the worker-thread
 * lever of issue 13 (#16), measured on the client side alone. The example release's files are
 * turned into COPY text (what the loader sends) with no database in the loop, three ways:
 *
 * - `main thread`: today's path, `readRecords` (scan + JSON.parse) → `RecordValidator` →
 *   `rowEncoder`, all on one thread;
 * - `N workers`: the main thread only reads, decodes and scans (finds each record's text);
 *   batches of record texts go to N worker_threads in turn, each parses, validates and encodes
 *   them, and the COPY texts come back and are taken in order (what the loader would need).
 *
 * Every way is loaded and run once untimed first. It prints wall time and the process's CPU
 * (all threads, `process.cpuUsage`) per way, the medians of --runs in alternating order, and
 * checks that every way produced the same COPY text (sha256). Never asserts on time. A
 * database is used only to read the catalog.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { readCatalog } from "../src/db/catalog.js";
import { pgTx } from "../src/db/pg-client.js";
import { JsonArrayScanner } from "../src/sources/json-array-scanner.js";
import { quoteLongNumbers } from "../src/sources/long-numbers.js";
import { type RawBatch, readRecords } from "../src/sources/read-records.js";
import { mayRepeatKeys } from "../src/sources/repeated-keys.js";
import { decodeStrictUtf8 } from "../src/sources/utf8.js";
import type { TableInfo } from "../src/sql/catalog.js";
import { rowEncoder } from "../src/db/copy-text.js";
import { groupByDefaults } from "../src/runner/load.js";
import { type DataModel, dataModelOf } from "../src/validation/prisma-enums.js";
import { RecordValidator } from "../src/validation/record-validator.js";
import { mapModel } from "../src/validation/table-mapping.js";

const MODELS = { leagues: "League", teams: "Team", players: "Player", matches: "Match", player_match_stats: "PlayerMatchStat" } as const;
type TableName = keyof typeof MODELS;

interface TableSpec {
  table: TableName;
  file: string;
  info: TableInfo;
}

/** One table's validator and COPY encoder: the same on the main thread and in a worker. */
function pipelineFor(spec: TableSpec, dm: DataModel | undefined) {
  const v = new RecordValidator(mapModel({ model: MODELS[spec.table] }, dm), spec.info, spec.file, "auto", undefined);
  const encoders = new Map<string, (rows: readonly Record<string, unknown>[]) => string>();
  return (batch: RawBatch): string => {
    let out = "";
    for (const g of groupByDefaults(spec.info, v.validateBatch(batch))) {
      const key = g.columns.join("\u0000");
      let enc = encoders.get(key);
      if (!enc) encoders.set(key, (enc = rowEncoder(spec.info, g.columns)));
      out += enc(g.rows);
    }
    return out;
  };
}

/** Worker side: batches of record texts in, COPY text out. */
interface Job {
  table: TableName;
  firstIndex: number;
  texts: string[];
  long: boolean[];
  colons: number[];
}

function workerMain(): void {
  const { specs, dm } = workerData as { specs: TableSpec[]; dm: DataModel | undefined };
  const pipes = new Map(specs.map((s) => [s.table, pipelineFor(s, dm)]));
  parentPort?.postMessage("ready");
  parentPort?.on("message", (job: Job) => {
    const records: unknown[] = [];
    const mayRepeat: number[] = [];
    for (let i = 0; i < job.texts.length; i++) {
      const t = job.texts[i] as string;
      const value = JSON.parse(job.long[i] ? quoteLongNumbers(t) : t) as unknown;
      if (mayRepeatKeys(value, job.colons[i] as number)) mayRepeat.push(i);
      records.push(value);
    }
    const copy = (pipes.get(job.table) as (b: RawBatch) => string)({ firstIndex: job.firstIndex, records, texts: job.texts, mayRepeat });
    parentPort?.postMessage(copy);
  });
}

/** Record texts of a JSON array file, in batches, as the reader's scanner finds them (no parse). */
async function* scannedBatches(file: string, batchSize: number): AsyncGenerator<Omit<Job, "table">> {
  const scanner = new JsonArrayScanner();
  let texts: string[] = [];
  let long: boolean[] = [];
  let colons: number[] = [];
  let firstIndex = 0;
  for await (const chunk of decodeStrictUtf8(createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>)) {
    scanner.push(chunk.text, texts, long, colons);
    while (texts.length >= batchSize) {
      yield { firstIndex, texts: texts.slice(0, batchSize), long: long.slice(0, batchSize), colons: colons.slice(0, batchSize) };
      firstIndex += batchSize;
      texts = texts.slice(batchSize);
      long = long.slice(batchSize);
      colons = colons.slice(batchSize);
    }
  }
  scanner.end();
  if (texts.length) yield { firstIndex, texts, long, colons };
}

interface Way {
  name: string;
  /** COPY text of every table, in order, into the hash. */
  run(specs: TableSpec[], hash: (s: string) => void): Promise<void>;
  /** Resolves once the way can take work (its workers loaded). */
  ready?: Promise<void>;
  close?(): Promise<void>;
}

function mainThread(dir: string, dm: DataModel | undefined, batchSize: number): Way {
  return {
    name: "main thread (today)",
    async run(specs, hash) {
      for (const s of specs) {
        const pipe = pipelineFor(s, dm);
        for await (const b of readRecords(path.join(dir, s.file), { batchSize })) hash(pipe(b));
      }
    },
  };
}

function workers(n: number, dir: string, specs: TableSpec[], dm: DataModel | undefined, batchSize: number): Way {
  // tsx's loader is registered in each worker before it imports this file
  const boot = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const pool = Array.from({ length: n }, () => new Worker(boot, { eval: true, workerData: { specs, dm } }));
  // each worker answers its jobs in the order it got them: one FIFO of waiting callers per worker
  const ready = Promise.all(pool.map((w) => new Promise<void>((resolve) => w.once("message", () => resolve())))).then(() => undefined);
  const waiting = pool.map((w) => {
    const q: { resolve: (s: string) => void; reject: (e: unknown) => void }[] = [];
    void ready.then(() => w.on("message", (copy: string) => q.shift()?.resolve(copy)));
    // a worker that dies fails every job it holds
    w.on("error", (e) => {
      for (const job of q.splice(0)) job.reject(e);
    });
    return q;
  });
  const send = (i: number, job: Job) =>
    new Promise<string>((resolve, reject) => {
      waiting[i]?.push({ resolve, reject });
      pool[i]?.postMessage(job);
    });
  return {
    name: `${n} worker${n > 1 ? "s" : ""} (parse, validate, encode)`,
    ready,
    async run(all, hash) {
      // round robin, at most 2 batches per worker in flight; results taken in file order
      const inFlight: Promise<string>[] = [];
      let next = 0;
      for (const s of all) {
        for await (const job of scannedBatches(path.join(dir, s.file), batchSize)) {
          inFlight.push(send(next++ % n, { table: s.table, ...job }));
          if (inFlight.length >= 2 * n) hash(await (inFlight.shift() as Promise<string>));
        }
      }
      while (inFlight.length) hash(await (inFlight.shift() as Promise<string>));
    },
    async close() {
      await Promise.all(pool.map((w) => w.terminate()));
    },
  };
}

async function benchMain(): Promise<void> {
  const { arg, benchDatabase, benchRelease, median, TABLES } = await import("./support.js");
  const { PrismaClient } = await import("../etl/generated/prisma/client.js");
  const rows = Number(arg("rows", "1000000"));
  const runs = Number(arg("runs", "3"));
  const batchSize = Number(arg("batch", "5000"));
  const db = await benchDatabase();
  try {
    process.stderr.write(`generating a release of ${rows} rows…\n`);
    const rel = await benchRelease(rows);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const catalog = await readCatalog(pgTx(c), "public", TABLES).finally(() => c.end());
    const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
    const dm = await dataModelOf(client as never);
    await client.$disconnect();
    const specs: TableSpec[] = (TABLES as readonly TableName[]).map((t) => ({
      table: t,
      file: `${t}.json`,
      info: catalog.get(t) as TableInfo,
    }));
    const ways = [mainThread(rel.dir, dm, batchSize), workers(1, rel.dir, specs, dm, batchSize), workers(2, rel.dir, specs, dm, batchSize)];
    const samples = new Map<string, { wallMs: number; cpuMs: number; sha: string }[]>();
    // every way loaded and run once untimed, so no way takes the cold (JIT, module loading) slot
    for (const way of ways) {
      await way.ready;
      process.stderr.write(`warm-up: ${way.name}…\n`);
      await way.run(specs, () => undefined);
    }
    for (let i = 0; i < runs; i++) {
      for (const way of i % 2 ? [...ways].reverse() : ways) {
        process.stderr.write(`run ${i + 1}/${runs}: ${way.name}…\n`);
        const h = createHash("sha256");
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await way.run(specs, (s) => h.update(s));
        const wallMs = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        samples.set(way.name, [...(samples.get(way.name) ?? []), { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, sha: h.digest("hex") }]);
      }
    }
    for (const w of ways) await w.close?.();
    const base = samples.get(ways[0]?.name as string) ?? [];
    const baseWall = median(base.map((s) => s.wallMs));
    const baseCpu = median(base.map((s) => s.cpuMs));
    const shas = new Set([...samples.values()].flat().map((s) => s.sha));
    const table = [...samples].map(([way, s]) => {
      const wall = median(s.map((x) => x.wallMs));
      const cpu = median(s.map((x) => x.cpuMs));
      return {
        way,
        wallMs: Math.round(wall),
        cpuMs: Math.round(cpu),
        wallVsMain: Number((wall / baseWall).toFixed(2)),
        cpuVsMain: Number((cpu / baseCpu).toFixed(2)),
      };
    });
    console.table(table);
    console.log(
      JSON.stringify(
        { rows, runs, batchSize, cores: (await import("node:os")).availableParallelism(), sameCopyText: shas.size === 1, table },
        null,
        2,
      ),
    );
  } finally {
    await db.stop();
  }
}

if (isMainThread) await benchMain();
else workerMain();
