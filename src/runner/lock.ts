import { acquireRunLock, type HeldLock, holderName } from "../db/advisory-lock.js";
import type { RunPlan } from "./plan.js";

/** Tags a connection URL so the run's sessions can be found in pg_stat_activity. */
export function withAppName(url: string, name: string): string {
  try {
    const u = new URL(url);
    if (!u.searchParams.has("application_name")) u.searchParams.set("application_name", name);
    return u.toString();
  } catch {
    return url;
  }
}

/** The URL the run's own connections (backup, proof) use: the target's, tagged with the run. */
export const runUrl = (plan: RunPlan) => withAppName(plan.target.url, `atomic-etl:${plan.runId.slice(0, 8)}`);

/**
 * The run lock (see {@link acquireRunLock}): one per database and schema, held on its own
 * session for the whole run, so two runs never interleave. Fails fast with LOCK_HELD, or
 * queues for `--wait`.
 */
export function takeRunLock(plan: RunPlan): Promise<HeldLock> {
  const name = holderName(`atomic-etl:lock:${plan.runId.slice(0, 8)}`);
  return acquireRunLock(withAppName(plan.target.url, name), plan.schema, { applicationName: name, waitMs: plan.waitMs });
}
