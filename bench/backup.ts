/**
 * `npx tsx bench/backup.ts [--rows 1000000] [--skip-large]`: backup and restore cost, as
 * ratios to the import they protect, for the example release (etl/releases/league-2026) and a
 * generated release of `--rows` rows (written outside the repo). One throwaway cluster, one
 * database per release; a single measurement each. Never asserts on time.
 *
 * Per release: import into empty tables without a backup (the baseline), then `takeBackup`
 * of the loaded tables (pg_dump + full read-back + sha256 + manifest), then `restoreBackup`
 * into the same tables (one transaction, with the in-transaction fingerprint proof).
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { takeBackup } from "../src/backup/pg-dump.js";
import { restoreBackup } from "../src/backup/restore.js";
import { expectedDataEntries, inspectDump } from "../src/backup/verify.js";
import { sha256File } from "../src/release/release-files.js";
import { loadConfig } from "../src/config/load.js";
import { applyMigrations } from "../tools/migrations.js";
import { startThrowawayPostgres } from "../tools/harness/throwaway-postgres.js";
import { AtomicEtl } from "../src/atomic-etl.js";
import { arg, benchRelease, TABLES } from "./support.js";

const rows = Number(arg("rows", "1000000"));
const cluster = await startThrowawayPostgres();
const results: Record<string, unknown>[] = [];
try {
  const config = await loadConfig("etl/etl.config.ts");
  config.backupDir = path.join(cluster.baseDir, "backups");
  const releases: { name: string; dir: string }[] = [{ name: "league-2026", dir: path.resolve("etl/releases/league-2026") }];
  if (arg("skip-large") !== "true") releases.push({ name: `generated-${rows}`, dir: (await benchRelease(rows, cluster.baseDir)).dir });
  for (const r of releases) {
    config.releases[r.name] = { ...(config.releases["league-2026-hotfix"] as (typeof config.releases)[string]), dir: r.dir, checks: [] };
    const url = await cluster.createDatabase(`bench_${results.length}`);
    await applyMigrations(url, path.resolve("prisma/migrations"));
    const etl = new AtomicEtl(config);

    const imported = await etl.import({ release: r.name, url, backup: false });
    let t = performance.now();
    const b = await takeBackup({
      url,
      schema: "public",
      tables: [...TABLES],
      dir: config.backupDir,
      mode: "tables",
      environment: "local",
      release: r.name,
      releaseHash: null,
      runId: "bench-run",
    });
    const backupMs = performance.now() - t;
    t = performance.now();
    await inspectDump(b.dumpPath, expectedDataEntries(b.manifest), "tables", { deep: true, step: "backup" });
    const readBackMs = performance.now() - t;
    t = performance.now();
    await sha256File(b.dumpPath);
    const shaMs = performance.now() - t;
    t = performance.now();
    await restoreBackup(url, b.dumpPath, b.manifest);
    const restoreMs = performance.now() - t;

    results.push({
      release: r.name,
      rows: imported.rows,
      importMs: imported.durationMs,
      backupMs: Math.round(backupMs),
      // re-measured on their own; both are part of backupMs
      readBackMs: Math.round(readBackMs),
      sha256Ms: Math.round(shaMs),
      restoreMs: Math.round(restoreMs),
      dumpBytes: (await stat(b.dumpPath)).size,
      compression: b.manifest.compression,
      backupOverImport: Number((backupMs / imported.durationMs).toFixed(2)),
      restoreOverImport: Number((restoreMs / imported.durationMs).toFixed(2)),
    });
  }
  console.log(JSON.stringify(results, null, 2));
} finally {
  await cluster.stop();
}
