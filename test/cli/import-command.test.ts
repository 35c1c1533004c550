/**
 * The real CLI as an operator meets it: SIGINT and SIGTERM in each phase of an import (the
 * run stops at its next safe point, rolls back, proves the database unchanged, prints one
 * outcome line and, with --json, the report, and exits 130 or 143); a reader that closes
 * stdout after COMMIT; progress lines when stderr is not a terminal.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../fixtures/core/kit.js";
import { type FaultBench, openBench, other } from "../faults/support/fault-bench.js";
import { FAULT_CONFIG } from "../faults/support/paths.js";
import { MEDIUM } from "../faults/support/release-fixture.js";
import { type LogLine, spawnCli } from "../faults/support/spawn-run.js";

/** The bench's database for the file (the bench drops it on close; the fixture's drop is then a no-op). */
const database = useTestDatabase({ seed: false, scope: "suite" });
let bench: FaultBench;

beforeAll(async () => {
  bench = await openBench({ size: MEDIUM, batchSize: 200, checkSleepMs: 1500, database });
}, 180_000);
afterAll(() => bench?.close());

/** Where to send the signal: the log line after which the run is in that phase. */
const PHASES: [string, (l: LogLine) => boolean, string][] = [
  ["preflight", (l) => l.msg === "lock done", "untouched"],
  ["backup", (l) => l.msg === "preflight done" && "tables" in l, "untouched"],
  ["load", (l) => l.msg === "clear done", "rolled back; database unchanged"],
  ["checks", (l) => l.msg === "apply done", "rolled back; database unchanged"],
];

describe("atomic-etl import under SIGINT and SIGTERM", () => {
  for (const [phase, when, data] of PHASES) {
    for (const [signal, code, exit] of [
      ["SIGINT", "INTERRUPTED", 130],
      ["SIGTERM", "TERMINATED", 143],
    ] as const) {
      it(`should roll back and say so on ${signal} during ${phase}, exiting ${exit} with the report`, async () => {
        const before = bench.current;
        const run = spawnCli(["import", other(before), "--config", FAULT_CONFIG, "--json"], bench.runEnv());
        await run.waitFor(when);
        run.child.kill(signal);
        const r = await run.done;
        expect(r.code).toBe(exit);
        expect(r.stderr).toContain(`${code.toLowerCase()}: ${data}`);
        expect(r.stderr.match(new RegExp(`^${code} in `, "gm"))).toHaveLength(1);
        const report = JSON.parse(r.stdout) as { outcome: string; error: { code: string; data: string } };
        expect(report.error).toMatchObject({ code, data });
        expect(report.outcome).toBe(data === "untouched" ? "refused" : "rolled back");
        const after = await bench.inspect();
        expect(after).toMatchObject({ state: before, clean: true });
      }, 120_000);
    }
  }

  it("should say what it still waits for on a second SIGINT, and still roll back", async () => {
    const before = bench.current;
    const run = spawnCli(["import", other(before), "--config", FAULT_CONFIG], bench.runEnv());
    await run.waitFor((l) => l.msg === "apply done");
    run.child.kill("SIGINT");
    await run.waitFor((l) => l.phase === "interrupt");
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("atomic-etl: still validate; stopping at the next safe point");
    expect((await bench.inspect()).state).toBe(before);
  }, 120_000);

  it("should exit 0 after COMMIT even when its reader closed stdout (EPIPE), and so should backups", async () => {
    const target = other(bench.current);
    const run = spawnCli(["import", target, "--config", FAULT_CONFIG, "--json"], bench.runEnv());
    run.child.stdout?.destroy(); // like `| true`: the reader is gone before the report is written
    const r = await run.done;
    expect(r.stderr).not.toContain("EPIPE");
    expect(r.code).toBe(0);
    expect((await bench.inspect()).state).toBe(target);
    bench.current = target;
    const list = spawnCli(["backups", "--config", FAULT_CONFIG], bench.runEnv());
    list.child.stdout?.destroy();
    expect((await list.done).code).toBe(0);
  }, 120_000);

  it("should log a progress line per table every few seconds when stderr is not a terminal", async () => {
    // a tick every 10 ms: on a quiet machine a table of this bench can load in under 0.2 s (a CI run saw no line at 0.2 s)
    const target = other(bench.current);
    const run = spawnCli(
      ["import", target, "--config", FAULT_CONFIG, "--no-backup"],
      bench.runEnv({ ATOMIC_ETL_PROGRESS_SECONDS: "0.01" }),
    );
    const r = await run.done;
    expect(r.code).toBe(0);
    bench.current = target;
    const progress = r.lines.filter((l) => l.phase === "progress");
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toMatchObject({
      msg: "loading",
      table: expect.any(String),
      rows: expect.any(Number),
      totalBytes: expect.any(Number),
    });
    expect(progress.every((l) => typeof l.percent === "number" && (l.percent as number) <= 100)).toBe(true);
  }, 120_000);
});
