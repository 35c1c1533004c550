/**
 * The real CLI under a real pseudo-terminal (test/support/pty-run.py): a failed import prints
 * its error once (not also as a log line), and the progress bars show each table's percent,
 * rows, rows/s and ETA while it loads.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, useTestDatabase } from "../fixtures/core/kit.js";
import { type FaultBench, openBench, other } from "../faults/support/fault-bench.js";
import { CLI, FAULT_CONFIG } from "../faults/support/paths.js";
import { MEDIUM, writeRelease } from "../faults/support/release-fixture.js";

const SIZE = { ...MEDIUM, categories: 150_000 };
const PTY = path.join(REPO_ROOT, "test", "support", "pty-run.py");

/** The bench's database for the file (the bench drops it on close; the fixture's drop is then a no-op). */
const database = useTestDatabase({ seed: false, scope: "suite" });
let bench: FaultBench;
beforeAll(async () => {
  // a 7 MB file in small batches: its load takes long enough for the bars to be drawn midway (a file
  // of a few hundred kB is read to its end, 100%, well before its last batch is loaded)
  bench = await openBench({ size: SIZE, batchSize: 250, database });
}, 180_000);
afterAll(() => bench?.close());

/** `atomic-etl …args` with the pty as its stdin, stdout and stderr: its exit code and everything the terminal showed. */
async function onTerminal(args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const argv = [process.execPath, "--import", "tsx", CLI, ...args, "--config", FAULT_CONFIG];
  const r = await execa("python3", [PTY, JSON.stringify(argv), "", ""], {
    cwd: REPO_ROOT,
    env: { ...bench.runEnv(), ATOMIC_ETL_LOG_LEVEL: "info", ...env },
    timeout: 300_000,
  });
  return JSON.parse(r.stdout) as { code: number; output: string };
}

const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
const count = (text: string, re: RegExp) => text.match(new RegExp(re.source, "gm"))?.length ?? 0;

describe("atomic-etl import on a terminal", () => {
  it("should print a failed run's error once, with its code line, next step and run id, and change nothing", async () => {
    // release B with two teams of one id: a data error inside the transaction, after the load began
    const releases = path.join(bench.dir, "tty-releases");
    await writeRelease(path.join(releases, "A"), "A", SIZE);
    await writeRelease(path.join(releases, "B"), "B", SIZE);
    const teams = path.join(releases, "B", "teams.json");
    const rows = JSON.parse(await readFile(teams, "utf8")) as { id: number }[];
    (rows[1] as { id: number }).id = (rows[0] as { id: number }).id;
    await writeFile(teams, JSON.stringify(rows));
    const before = bench.current;
    const r = await onTerminal(["import", "B", "--no-backup"], { FAULT_RELEASES_DIR: releases });
    const text = plain(r.output);
    expect(r.code).not.toBe(0);
    const codeLine = /^([A-Z_]+) in (\w+): (.+)$/m.exec(text);
    expect(codeLine, text).not.toBeNull();
    const [, code, , message] = codeLine as RegExpExecArray;
    expect(code).not.toBe("INTERNAL");
    // the CLI's own description of the error, once; the run's "failed" log line is not also shown
    expect(count(text, new RegExp(`^${code} in `))).toBe(1);
    expect(text.split(message as string).length - 1, `"${message}" in:\n${text}`).toBe(1);
    expect(count(text, /^ {2}next: {2}/)).toBe(1);
    expect(count(text, /^ {2}run: {3}/)).toBe(1);
    expect(text).toContain("teams.json");
    expect(await bench.inspect()).toMatchObject({ state: before, clean: true });
  }, 300_000);

  it("should print a connection error once", async () => {
    const url = new URL(bench.url);
    url.password = "not-the-password";
    const r = await onTerminal(["import", other(bench.current), "--no-backup"], { DATABASE_URL: url.toString() });
    const text = plain(r.output);
    expect(r.code).toBe(15);
    expect(count(text, /^AUTH_FAILED in /)).toBe(1);
    expect(count(text, /password authentication failed/)).toBe(1);
  }, 300_000);

  it("should draw a bar per table with its percent, rows, rows/s and ETA while it loads, then 100% and done", async () => {
    const target = other(bench.current);
    const r = await onTerminal(["import", target, "--no-backup"]);
    expect(r.code, r.output).toBe(0);
    bench.current = target;
    const text = plain(r.output);
    const bar = / (\w+)\s*\|[\u2588\u2591]+\| (\d+)% \| (\d+) rows \| (\d+) rows\/s \| ETA (\d+ s|done)/g;
    const frames = [...text.matchAll(bar)].map(([, table, percent, rows, rate, eta]) => ({
      table: table as string,
      percent: Number(percent),
      rows: Number(rows),
      rate: Number(rate),
      eta: eta as string,
    }));
    // a frame drawn mid-table: part of the file read, rows counted, a rate and a time left in seconds
    const midway = frames.filter((f) => f.percent > 0 && f.percent < 100 && f.eta !== "done");
    expect(midway.length, text.slice(-3000)).toBeGreaterThan(0);
    expect(midway.some((f) => f.rows > 0 && f.rate > 0 && /^\d+ s$/.test(f.eta))).toBe(true);
    // every table of the release ends at 100% with all its rows, and done
    for (const [file, n] of Object.entries(bench.counts[target])) {
      const table = file === "fault_categories.ndjson" ? "fault_categories" : file.replace(/\.json$/, "");
      expect(
        frames.some((f) => f.table === table && f.percent === 100 && f.rows === n && f.eta === "done"),
        `${table}: ${JSON.stringify(frames.filter((f) => f.table === table).slice(-3))}`,
      ).toBe(true);
    }
    expect(text).toMatch(/COMMITTED/);
    expect(await bench.inspect()).toMatchObject({ state: target, clean: true });
  }, 300_000);
});
