/**
 * The two in-process faults: an immediate server stop (crash, then restart) and
 * pg_terminate_backend of the run's connection. Each says what a correct run reports.
 */
import { sql } from "./fault-cluster.js";
import type { ThrowawayPostgres } from "../../../tools/harness/throwaway-postgres.js";
import type { FaultBench } from "./fault-bench.js";
import type { TrialSpec } from "./inprocess-trials.js";

/** The bench's private cluster; crash tests never run on a shared server. */
export function clusterOf(bench: FaultBench): ThrowawayPostgres {
  if (!bench.fc) throw new Error("this fault needs a private cluster: open the bench without `database`");
  return bench.fc.cluster;
}

/** The run's own connections: application_name atomic-etl:<run id prefix>, the backup's snapshot session included (the URL's application_name names it); not :lock or :verify. */
export const RUN_CONNECTION = "^atomic-etl:[0-9a-f]{8}$";

export const terminateRunConnection = (url: string) =>
  sql<{ n: number }>(url, "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name ~ $1", [
    RUN_CONNECTION,
  ]).then((r) => r[0]?.n ?? 0);

/**
 * pg_xact_status of a transaction of a crashed server, read right after the restart:
 * "aborted", or "never durable" when none of its WAL reached disk, so the restarted server
 * has never heard of the xid ("transaction ID … is in the future"). Both mean it did not commit.
 */
export async function xactStatusAfterRestart(url: string, txid: string): Promise<string> {
  try {
    const [row] = await sql<{ s: string | null }>(url, "SELECT pg_xact_status($1::xid8) AS s", [txid]);
    return row?.s ?? "null";
  } catch (e) {
    if (/is in the future/.test((e as Error).message)) return "never durable";
    throw e;
  }
}

/** Server stops immediately (like a crash) at the fault point and is started again once the run gave up. */
export const crashSpec: TrialSpec = {
  label: "crash",
  local: { retries: 0 },
  fire: ({ bench }) => clusterOf(bench).stopImmediate(),
  recover: ({ bench }) => clusterOf(bench).start(),
  async check({ bench, error, txid, report }) {
    const problems: string[] = [];
    if (!error) {
      // the stop came after COMMIT completed: the release must be in (checked by the caller)
      if (report.outcome !== "committed") problems.push(`no error but outcome ${report.outcome}`);
      return { problems, tags: ["stopped after COMMIT"] };
    }
    const tags: string[] = [];
    const e = error.error;
    if (!["CONNECTION_LOST", "COMMIT_IN_DOUBT", "BACKUP_FAILED"].includes(e.code))
      problems.push(`unexpected error for a crashed server: ${e.describe()}`);
    if (e.data === "committed") problems.push(`claims "${e.data}" after a crash before COMMIT completed`);
    if (txid) {
      const status = await xactStatusAfterRestart(bench.url, txid);
      if (status !== "aborted" && status !== "never durable") problems.push(`pg_xact_status(${txid}) = ${status}, expected aborted`);
      tags.push(`xact ${status}`);
    } else tags.push("no transaction yet");
    return { problems, tags };
  },
};

/** pg_terminate_backend of the run's connection at the fault point; the run must say CONNECTION_LOST and leave the data as it was. */
export const terminateSpec: TrialSpec = {
  label: "terminate",
  local: { retries: 0 },
  fire: async ({ bench }) => {
    await terminateRunConnection(bench.url);
  },
  async check({ error, report, point }) {
    const problems: string[] = [];
    if (!error) {
      // e.g. only an idle pooled connection was cut (during the backup): the run goes on and commits
      if (report.outcome !== "committed") problems.push(`no error but outcome ${report.outcome}`);
      return { problems, tags: ["run survived (idle connection cut)"] };
    }
    const e = error.error;
    // a fault aimed at an earlier point can land once COMMIT is already sent (the ledger step takes
    // milliseconds): then, as at before-commit, the run is in doubt until pg_xact_status says aborted
    if (point === "before-commit" || e.step === "commit") {
      if (!["COMMIT_IN_DOUBT", "CONNECTION_LOST"].includes(e.code) || e.data !== "rolled back; database unchanged")
        problems.push(`expected COMMIT_IN_DOUBT resolved as rolled back, got ${e.describe()}`);
      if (e.code === "COMMIT_IN_DOUBT" && e.meta.transactionStatus !== "aborted")
        problems.push(`transaction status ${String(e.meta.transactionStatus)}`);
    } else {
      if (e.code !== "CONNECTION_LOST") problems.push(`expected CONNECTION_LOST, got ${e.describe()}`);
      if (e.data !== "rolled back; database unchanged" && e.data !== "untouched") problems.push(`data: ${e.data}`);
    }
    return { problems, tags: [`${e.code}: ${e.data}`] };
  },
};
