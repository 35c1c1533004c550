/**
 * A process that takes one backup and prints its result as JSON: the interrupted-backup tests
 * kill it with SIGKILL while its pg_dump runs, or let it finish beside a sweep.
 *
 * env: CHILD_URL, CHILD_DIR, CHILD_TABLES (comma-separated, schema public).
 */
import { takeBackup } from "../../src/backup/pg-dump.js";

const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};

const r = await takeBackup({
  url: env("CHILD_URL"),
  schema: "public",
  tables: env("CHILD_TABLES").split(","),
  dir: env("CHILD_DIR"),
  mode: "tables",
  environment: "local",
  release: "child",
  releaseHash: null,
  runId: `child-${process.pid}`,
});
process.stdout.write(`${JSON.stringify({ id: r.manifest.id, dumpPath: r.dumpPath })}\n`);
