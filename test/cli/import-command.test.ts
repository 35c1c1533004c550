/**
 * The real CLI as an operator meets it: SIGINT and SIGTERM in each phase of an import and at
 * the commit safe point (the run stops at its next safe point, rolls back, proves the database
 * unchanged, prints one outcome line and, with --json, the report, and exits 130 or 143); a
 * kill -9 of npx (or of another parent that set npm_command=exec) during the load; a reader
 * that closes stdout (after COMMIT, and on every other command); progress lines when stderr is
 * not a terminal.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../fixtures/core/kit.js";
import { type FaultBench, openBench, other } from "../faults/support/fault-bench.js";
import { CLI, FAULT_CONFIG, REPO_ROOT } from "../faults/support/paths.js";
import { MEDIUM } from "../faults/support/release-fixture.js";
import { type LogLine, spawnCli } from "../faults/support/spawn-run.js";

/** The config whose client signals its own process at the commit safe point (SIGNAL_AT_COMMIT). */
const COMMIT_SIGNAL_CONFIG = path.join(import.meta.dirname, "commit-signal.config.ts");

/** The bench's database for the file (the bench drops it on close; the fixture's drop is then a no-op). */
const database = useTestDatabase({ seed: false, scope: "suite" });
let bench: FaultBench;

beforeAll(async () => {
  bench = await openBench({ size: MEDIUM, batchSize: 200, checkSleepMs: 1500, database });
}, 180_000);
afterAll(() => bench?.close());

/** Whether `pid` still runs (a zombie nobody reaped has exited). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * `argv` as a parent of the CLI (npx, or a node process that spawns it): its stdout and stderr
 * are pipes the CLI inherits, so they stay open, and are read, after the parent is killed. The
 * CLI's JSON log lines name its pid. Resolves `done` once every process holding the pipes exited.
 */
function spawnParent(argv: string[], env: Record<string, string>) {
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: REPO_ROOT,
    env: { ...process.env, ATOMIC_ETL_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  let stderr = "";
  let stdout = "";
  let partial = "";
  let wake = () => undefined as void;
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    partial += d;
    const complete = partial.split("\n");
    partial = complete.pop() ?? "";
    for (const raw of complete) {
      try {
        lines.push({ ...(JSON.parse(raw) as object), raw });
      } catch {
        lines.push({ raw });
      }
    }
    wake();
  });
  const done = new Promise<{ stdout: string; stderr: string }>((resolve) => child.on("close", () => resolve({ stdout, stderr })));
  let closed = false;
  void done.then(() => ((closed = true), wake()));
  return {
    parent: child,
    lines,
    done,
    async waitFor(match: (l: LogLine) => boolean): Promise<LogLine> {
      for (;;) {
        const seen = lines.find(match);
        if (seen) return seen;
        if (closed) throw new Error(`exited before the awaited line; stderr:\n${stderr.slice(-2000)}`);
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

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

  for (const [signal, code, exit] of [
    ["SIGINT", "INTERRUPTED", 130],
    ["SIGTERM", "TERMINATED", 143],
  ] as const) {
    it(`should roll back and say so on ${signal} at the commit safe point (checks passed, COMMIT not sent), exiting ${exit} with the report`, async () => {
      const before = bench.current;
      const run = spawnCli(
        ["import", other(before), "--config", COMMIT_SIGNAL_CONFIG, "--json"],
        bench.runEnv({ SIGNAL_AT_COMMIT: signal }),
      );
      const r = await run.done;
      // the signal came after the last check passed, and the gate refused to send COMMIT
      expect(r.lines.some((l) => l.msg === "test: signal at commit")).toBe(true);
      expect(r.lines.some((l) => l.msg === "validate done" && "checks" in l)).toBe(true);
      expect(r.lines.some((l) => l.msg === "sending COMMIT" || l.msg === "ledger row written")).toBe(false);
      expect(r.code).toBe(exit);
      expect(r.stderr).toContain(`${code.toLowerCase()}: rolled back; database unchanged`);
      expect(r.stderr.match(new RegExp(`^${code} in commit: stopped by ${signal} during commit`, "gm"))).toHaveLength(1);
      const report = JSON.parse(r.stdout) as { outcome: string; error: { code: string; data: string; step: string } };
      expect(report.outcome).toBe("rolled back");
      expect(report.error).toMatchObject({ code, data: "rolled back; database unchanged", step: "commit" });
      expect(await bench.inspect()).toMatchObject({ state: before, clean: true });
    }, 120_000);
  }

  /** npx itself (npm exec: npx → sh → node), and a node parent that spawns the CLI as npx would (npm_command=exec). */
  const PARENTS: [string, (args: string[]) => string[]][] = [
    ["npx", (args) => ["npx", "--offline", "--", process.execPath, "--import", "tsx", CLI, ...args]],
    [
      "a node parent with npm_command=exec",
      (args) => [
        process.execPath,
        "-e",
        `const c = require("node:child_process").spawn(process.execPath, ${JSON.stringify(["--import", "tsx", CLI, ...args])}, { stdio: "inherit", env: { ...process.env, npm_command: "exec" } });
         c.on("exit", (code) => process.exit(code ?? 1));`,
      ],
    ],
  ];
  for (const [name, argv] of PARENTS) {
    it(`should stop and roll back when ${name} is killed with kill -9 during the load, never committing`, async () => {
      const before = bench.current;
      const run = spawnParent(argv(["import", other(before), "--config", FAULT_CONFIG, "--no-backup"]), bench.runEnv());
      const cleared = await run.waitFor((l) => l.msg === "clear done");
      const cliPid = Number(cleared.pid);
      expect(cliPid).toBeGreaterThan(0);
      expect(cliPid).not.toBe(run.parent.pid);
      run.parent.kill("SIGKILL");
      const r = await run.done; // the pipes close once the orphaned CLI exited too
      expect(alive(cliPid)).toBe(false);
      expect(r.stderr).toContain("the parent process (npx) is gone; stopping at the next safe point");
      expect(r.stderr).toMatch(/^TERMINATED in \S+: stopped by the loss of the parent process/m);
      expect(r.stderr).toContain("terminated: rolled back; database unchanged");
      expect(run.lines.some((l) => l.msg === "sending COMMIT")).toBe(false);
      expect(await bench.inspect()).toMatchObject({ state: before, clean: true });
    }, 120_000);
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

  it("should exit with its normal code, quietly, when its reader closed stdout (EPIPE): plan, history, status, restore, export and sample", async () => {
    /** The command with its stdout closed before it writes (like `| head -c0`): its exit code and stderr. */
    const closed = async (args: string[]) => {
      const run = spawnCli([...args, "--config", FAULT_CONFIG], bench.runEnv());
      run.child.stdout?.destroy();
      const r = await run.done;
      const label = args.join(" ");
      expect(r.stderr, label).not.toContain("EPIPE");
      expect(r.stderr, label).not.toMatch(/^\s+at /m);
      expect(r.stderr, label).not.toContain("INTERNAL");
      return r;
    };
    const deployed = bench.current;
    const previous = other(deployed);
    // a committed import with a backup first: what restore latest puts back
    const imported = await closed(["import", previous, "--json"]);
    expect(imported.code).toBe(0);
    expect((await bench.inspect()).state).toBe(previous);
    bench.current = previous;
    for (const args of [
      ["plan", deployed],
      ["plan", deployed, "--json"],
      ["history"],
      ["history", "--json"],
      ["status"],
      ["status", "--json"],
    ])
      expect((await closed(args)).code, args.join(" ")).toBe(0);
    // restore latest: the backup of the import above, the release deployed before it
    expect((await closed(["restore", "latest", "--json"])).code).toBe(0);
    expect(await bench.inspect()).toMatchObject({ state: deployed, clean: true });
    bench.current = deployed;
    const out = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-epipe-"));
    try {
      expect((await closed(["export", deployed, "--from", "local", "--out", path.join(out, "export")])).code).toBe(0);
      expect((await readdir(path.join(out, "export"))).length).toBeGreaterThan(0);
      expect(
        (await closed(["sample", "epipe-sample", "--from", "local", "--limit", "*=5", "--out", path.join(out, "sample"), "--json"])).code,
      ).toBe(0);
      expect((await readdir(path.join(out, "sample"))).length).toBeGreaterThan(0);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
    // export and sample only read: the database is still the restored release
    expect(await bench.inspect()).toMatchObject({ state: deployed, clean: true });
  }, 180_000);

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
