import { MultiBar, Presets, type SingleBar } from "cli-progress";
import type { RunHooks } from "../runner/plan.js";

/** Per-table progress bars on a TTY (stderr); nothing otherwise. */
export function progressHooks(enabled: boolean): { hooks: RunHooks; stop(): void } {
  if (!enabled) return { hooks: {}, stop() {} };
  const multi = new MultiBar(
    { stream: process.stderr, clearOnComplete: false, hideCursor: true, format: " {table} |{bar}| {value} rows | {duration_formatted}" },
    Presets.shades_grey,
  );
  const bars = new Map<string, SingleBar>();
  return {
    hooks: {
      onTableStart: ({ table }) => bars.set(table, multi.create(0, 0, { table: table.padEnd(20) })),
      onProgress: ({ table, rows }) => {
        const b = bars.get(table);
        if (b) {
          b.setTotal(b.getTotal() + rows);
          b.increment(rows);
        }
      },
      onTableDone: ({ table }) => bars.get(table)?.stop(),
    },
    stop: () => multi.stop(),
  };
}
