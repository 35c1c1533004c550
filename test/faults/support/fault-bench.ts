/**
 * The common ground of the fault trials: a private cluster, releases A and B on disk,
 * their exact database states, and a way to prove that the next run succeeds.
 *
 * @example
 * const bench = await openBench({ size: MEDIUM }); … await bench.close();
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Logger } from "pino";
import type { EnvironmentSettings } from "../../../src/config/environments.js";
import { type LoadedConfig, parseConfig } from "../../../src/config/load.js";
import { AtomicEtl } from "../../../src/atomic-etl.js";
import { captureState, classify, type DbState, stateDiff } from "./db-state.js";
import { faultConfig } from "./fault-config.js";
import { type FaultCluster, isClean, type Residue, sql, startFaultCluster, waitForNoResidue } from "./fault-cluster.js";
import { REPO_ROOT } from "./paths.js";
import { FAULT_CATEGORIES_DDL, type ReleaseSize, type Variant, writeRelease } from "./release-fixture.js";

export interface BenchOptions {
  size: ReleaseSize;
  batchSize?: number;
  checkSleepMs?: number;
  /** Settings of the `local` environment the runs use. */
  local?: Partial<EnvironmentSettings>;
  password?: string;
  /**
   * Use this (migrated, empty) database instead of a private cluster: for tests that do
   * not crash the server. `fault_categories` is created in it.
   */
  database?: { url: string; drop(): Promise<void> };
}

export interface FaultBench {
  /** The private cluster (null when the bench runs on a given database). */
  fc: FaultCluster | null;
  url: string;
  dir: string;
  releasesDir: string;
  backupDir: string;
  /** Rows per file of each release. */
  counts: Record<Variant, Record<string, number>>;
  states: Record<Variant, DbState>;
  /** The release the database holds now. */
  current: Variant;
  config(local?: Partial<EnvironmentSettings>): LoadedConfig;
  etl(opts?: { logger?: Logger; local?: Partial<EnvironmentSettings> }): AtomicEtl;
  /** Environment of a spawned CLI or driver run. */
  runEnv(extra?: Record<string, string>): Record<string, string>;
  /** Imports `v` in-process (no backup) and proves the database then equals release `v` exactly. */
  importClean(v: Variant): Promise<void>;
  /** After a fault: nothing left behind, and the database is exactly one of the releases. */
  inspect(): Promise<{ state: Variant | "partial"; diff: string[]; residue: Residue; clean: boolean }>;
  close(): Promise<void>;
}

export const other = (v: Variant): Variant => (v === "A" ? "B" : "A");

export async function openBench(o: BenchOptions): Promise<FaultBench> {
  const fc = o.database ? null : await startFaultCluster({ password: o.password });
  const url = o.database?.url ?? (fc as FaultCluster).url;
  if (o.database) await sql(url, FAULT_CATEGORIES_DDL);
  const dir = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-faults-"));
  const releasesDir = path.join(dir, "releases");
  const backupDir = path.join(dir, "backups");
  const counts = {
    A: await writeRelease(path.join(releasesDir, "A"), "A", o.size),
    B: await writeRelease(path.join(releasesDir, "B"), "B", o.size),
  };
  const local = { ...o.local };
  const config = (extra: Partial<EnvironmentSettings> = {}) =>
    parseConfig(
      faultConfig({
        releasesDir,
        backupDir,
        batchSize: o.batchSize,
        checkSleepMs: o.checkSleepMs,
        environments: { local: { ...local, ...extra } },
      }),
      REPO_ROOT,
    );
  const bench: FaultBench = {
    fc,
    url,
    dir,
    releasesDir,
    backupDir,
    counts,
    states: {} as Record<Variant, DbState>,
    current: "A",
    config,
    etl: (opts = {}) => new AtomicEtl(config(opts.local), { logger: opts.logger }),
    runEnv: (extra = {}) => ({
      DATABASE_URL: url,
      FAULT_RELEASES_DIR: releasesDir,
      FAULT_BACKUP_DIR: backupDir,
      FAULT_ENVIRONMENTS: JSON.stringify({ local }),
      ...(o.batchSize ? { FAULT_BATCH_SIZE: String(o.batchSize) } : {}),
      ...(o.checkSleepMs ? { FAULT_CHECK_SLEEP_MS: String(o.checkSleepMs) } : {}),
      ...extra,
    }),
    async importClean(v) {
      const report = await bench.etl().import({ release: v, url, backup: false });
      if (report.outcome !== "committed") throw new Error(`import of ${v} did not commit: ${report.outcome}`);
      bench.current = v;
      const now = await captureState(url);
      const known = bench.states[v];
      if (!known) bench.states[v] = now;
      else {
        const diff = stateDiff(now, known);
        if (diff.length) throw new Error(`after a clean import of ${v} the database is not exactly ${v}:\n${diff.join("\n")}`);
      }
    },
    async inspect() {
      const residue = await waitForNoResidue(url);
      const now = await captureState(url);
      const state = classify(now, bench.states);
      return { state, diff: state === "partial" ? stateDiff(now, bench.states[bench.current]) : [], residue, clean: isClean(residue) };
    },
    async close() {
      await (fc ? fc.stop() : o.database?.drop());
      await rm(dir, { recursive: true, force: true });
    },
  };
  await bench.importClean("A");
  await bench.importClean("B");
  const same = Object.keys(bench.states.A.rows).filter((t) => bench.states.A.rows[t]?.join("\n") === bench.states.B.rows[t]?.join("\n"));
  if (same.length) throw new Error(`releases A and B must differ in every table; equal: ${same.join(", ")}`);
  return bench;
}
