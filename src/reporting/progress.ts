import { MultiBar, Presets, type SingleBar } from "cli-progress";
import type { Logger } from "pino";
import type { RunHooks } from "../runner/plan.js";

/** One table's progress, as the hooks report it. */
interface TableProgress {
  totalBytes: number;
  bytes: number;
  rows: number;
  started: number;
  done: boolean;
}

/** What a display of progress gives the run. */
export interface ProgressDisplay {
  hooks: RunHooks;
  /** Where log lines go while bars are drawn: above the bars, never through them. */
  write(line: string): void;
  stop(): void;
}

const rate = (p: TableProgress) => Math.round(p.rows / Math.max(0.001, (performance.now() - p.started) / 1000));
const eta = (p: TableProgress) => {
  const perByte = (performance.now() - p.started) / Math.max(1, p.bytes);
  return Math.max(0, Math.round(((p.totalBytes - p.bytes) * perByte) / 1000));
};

/** ANSI "erase the whole line" (EL 2). */
const ERASE_LINE = "\x1b[2K";

/**
 * Per-table progress. On a TTY: a bar per table whose total is the file's size in bytes,
 * with percent, rows, rows/s and ETA, and log lines written above the bars. Off a TTY: one
 * structured log line per table in progress every `everyMs` (default 5 s), so a long table
 * is never silent.
 *
 * @example const p = progressDisplay({ tty: process.stderr.isTTY === true, log }); … p.stop();
 */
export function progressDisplay(o: { tty: boolean; log: Logger; everyMs?: number }): ProgressDisplay {
  const tables = new Map<string, TableProgress>();
  const track: RunHooks = {
    onTableStart: ({ table, bytes }) =>
      tables.set(table, { totalBytes: bytes, bytes: 0, rows: 0, started: performance.now(), done: false }),
    onProgress: ({ table, rows, bytes }) => {
      const p = tables.get(table);
      if (p) Object.assign(p, { rows, bytes });
    },
    onTableDone: ({ table }) => {
      const p = tables.get(table);
      if (p) p.done = true;
    },
  };
  return o.tty ? bars(tables, track) : lines(tables, track, o.log, o.everyMs ?? 5000);
}

function bars(tables: Map<string, TableProgress>, track: RunHooks): ProgressDisplay {
  const multi = new MultiBar(
    {
      stream: process.stderr,
      clearOnComplete: false,
      hideCursor: true,
      format: " {table} |{bar}| {percentage}% | {rows} rows | {rate} rows/s | ETA {etaText}",
    },
    Presets.shades_grey,
  );
  const shown = new Map<string, SingleBar>();
  const payload = (table: string, p: TableProgress) => ({ table: table.padEnd(20), rows: p.rows, rate: rate(p), etaText: `${eta(p)} s` });
  return {
    hooks: {
      onTableStart: (e) => {
        track.onTableStart?.(e);
        const p = tables.get(e.table) as TableProgress;
        // without a size to go by (a table read from a database), rows and their rate only
        const format = e.bytes ? undefined : " {table} | {rows} rows | {rate} rows/s";
        shown.set(e.table, multi.create(Math.max(1, e.bytes), 0, payload(e.table, p), format ? { format } : {}));
      },
      onProgress: (e) => {
        track.onProgress?.(e);
        const p = tables.get(e.table) as TableProgress;
        shown.get(e.table)?.update(Math.min(e.bytes, p.totalBytes), payload(e.table, p));
      },
      onTableDone: (e) => {
        track.onTableDone?.(e);
        const p = tables.get(e.table) as TableProgress;
        shown.get(e.table)?.update(p.totalBytes, { ...payload(e.table, p), etaText: "done" });
        shown.get(e.table)?.stop();
      },
    },
    // cli-progress clears only the first line under a log: a multi-line log (pino-pretty's fields)
    // would leave the bars' text at the end of its shorter lines, so each line clears its own
    write: (line) => multi.log(`${line.replace(/\n$/, "").replace(/^/gm, ERASE_LINE)}\n`),
    stop: () => multi.stop(),
  };
}

function lines(tables: Map<string, TableProgress>, track: RunHooks, log: Logger, everyMs: number): ProgressDisplay {
  const timer = setInterval(() => {
    for (const [table, p] of tables) {
      if (p.done) continue;
      const percent = p.totalBytes ? Math.round((p.bytes / p.totalBytes) * 100) : null;
      log.info(
        {
          phase: "progress",
          table,
          rows: p.rows,
          bytes: p.bytes,
          totalBytes: p.totalBytes,
          percent,
          rowsPerSecond: rate(p),
          etaSeconds: eta(p),
        },
        "loading",
      );
    }
  }, everyMs);
  timer.unref();
  return { hooks: track, write: (line) => void process.stderr.write(line), stop: () => clearInterval(timer) };
}

/**
 * Hooks for a writer that reports rows as increments, without a byte total (export,
 * sample): counted up per table, then shown like an import's progress.
 */
export function incrementalProgress(d: ProgressDisplay): {
  onTableStart: (e: { table: string; bytes: number }) => void;
  onProgress: (e: { table: string; rows: number }) => void;
  onTableDone: (e: { table: string }) => void;
} {
  const rows = new Map<string, number>();
  return {
    onTableStart: (e) => d.hooks.onTableStart?.(e),
    onProgress: ({ table, rows: more }) => {
      const n = (rows.get(table) ?? 0) + more;
      rows.set(table, n);
      d.hooks.onProgress?.({ table, rows: n, bytes: 0 });
    },
    onTableDone: (e) => d.hooks.onTableDone?.(e),
  };
}
