/**
 * `npm run demo`: imports the example release through the real CLI.
 * Without DATABASE_URL it starts a throwaway local Postgres, applies the example schema's
 * migrations, imports league-2026, re-imports it on purpose (--redeploy), lists the backups
 * and removes the cluster.
 * With DATABASE_URL set, everything runs against that database instead.
 *
 * The demo's backups go to a temporary folder of its own, never beside real ones in backups/:
 * it runs the CLI with a config that takes the example config and sets only `backupDir`. The
 * folder is removed at the end, unless the demo ran against your DATABASE_URL (then it is kept,
 * and its path printed, since those are backups of your database).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { applyMigrations } from "../tools/migrations.js";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../tools/harness/throwaway-postgres.js";

const release = process.argv[2] ?? "league-2026";
let cluster: ThrowawayPostgres | null = null;
let url = process.env.DATABASE_URL;
const scratch = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-demo-"));
const backupDir = path.join(scratch, "backups");
const config = path.join(scratch, "etl.config.ts");
const example = path.resolve("etl/etl.config.ts");
await writeFile(
  config,
  `import example from ${JSON.stringify(example)};\nexport default { ...example, releasesDir: ${JSON.stringify(path.resolve("etl/releases"))}, backupDir: ${JSON.stringify(backupDir)} };\n`,
);
try {
  if (!url) {
    process.stderr.write("DATABASE_URL is not set: starting a throwaway local PostgreSQL…\n");
    cluster = await startThrowawayPostgres({ log: (m) => process.stderr.write(`  ${m}\n`) });
    url = cluster.url;
  }
  const applied = await applyMigrations(url, "prisma/migrations");
  process.stderr.write(`migrations: ${applied.applied.length} applied, ${applied.skipped.length} already there\n`);
  const cli = (args: string[]) =>
    execa("tsx", ["src/cli/main.ts", ...args, "--config", config], {
      preferLocal: true,
      env: { ...process.env, DATABASE_URL: url },
      stdio: "inherit",
      reject: false,
    });
  let r = await cli(["import", release]);
  if (r.exitCode === 0) {
    process.stderr.write("\nre-importing the same release on purpose (--redeploy; readers never see a partial table):\n");
    r = await cli(["import", release, "--redeploy"]);
  }
  if (r.exitCode === 0) r = await cli(["backups"]);
  process.exitCode = r.exitCode ?? 1;
} finally {
  await cluster?.stop();
  if (cluster) await rm(scratch, { recursive: true, force: true });
  else process.stderr.write(`the demo's backups of your database are in ${backupDir}\n`);
}
