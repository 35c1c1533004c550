/**
 * On a terminal, a log line of several lines (pino-pretty prints one field a line) is drawn
 * above the bars with every one of its lines cleared first, so no bar's text is left at the end
 * of a shorter log line (as a tmux capture of a 1M-row import showed).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/reporting/logger.js";
import { progressDisplay } from "../../src/reporting/progress.js";

const tty = Object.getOwnPropertyDescriptor(process.stderr, "isTTY");
afterEach(() => {
  vi.restoreAllMocks();
  if (tty) Object.defineProperty(process.stderr, "isTTY", tty);
  else delete (process.stderr as { isTTY?: boolean }).isTTY;
});

describe("progress bars on a terminal", () => {
  it("should clear each line of a multi-line log before writing it above the bars", async () => {
    Object.defineProperty(process.stderr, "isTTY", { value: true, configurable: true });
    const out: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const p = progressDisplay({ tty: true, log: createLogger({ level: "silent" }) });
    p.hooks.onTableStart?.({ table: "player_match_stats", bytes: 1000 });
    p.hooks.onProgress?.({ table: "player_match_stats", rows: 10, bytes: 500 });
    await new Promise((r) => setTimeout(r, 250));
    p.write('[22:00:01.000] INFO: load done\n    table: "players"\n    records: 43500\n');
    await new Promise((r) => setTimeout(r, 250));
    p.stop();
    const text = out.join("");
    for (const line of ["[22:00:01.000] INFO: load done", '    table: "players"', "    records: 43500"])
      expect(text).toContain(`\x1b[2K${line}\n`);
  });
});
