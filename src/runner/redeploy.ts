import { diffFingerprints, type Fingerprint } from "../db/fingerprint.js";
import { EtlError } from "../errors.js";
import type { LedgerRow } from "../ledger/ledger-row.js";
import { matchesPlan, type PlanHashInputs, planHash } from "../plan/plan-hash.js";
import type { RunPlan } from "./plan.js";

/** The targets' fingerprints a committed run recorded right before its COMMIT. */
export function recordedAfter(row: LedgerRow): Record<string, Fingerprint> | null {
  const out: Record<string, Fingerprint> = {};
  for (const t of row.tables) {
    if (!t.fingerprintAfter) return null;
    out[t.table] = t.fingerprintAfter;
  }
  return out;
}

/** An import's last committed deploy could make it a no-op: the same content and effective config. */
export function sameRelease(last: LedgerRow | null, contentHash: string, configHash: string): last is LedgerRow {
  return last !== null && last.contentHash === contentHash && last.configHash === configHash;
}

/**
 * Why an import has nothing to do, or null when it has: the release's content and effective
 * config are those of the last committed run of the release here, and every target's
 * fingerprint still equals what that run recorded right before its COMMIT.
 */
export function unchangedReason(
  last: LedgerRow | null,
  content: string,
  config: string,
  now: Readonly<Record<string, Fingerprint>>,
): string | null {
  if (!sameRelease(last, content, config)) return null;
  const recorded = recordedAfter(last);
  if (!recorded || diffFingerprints(recorded, { ...now }).length) return null;
  return `release content ${content.slice(0, 12)} and config are those of run ${last.runId}, committed ${last.finishedAt ?? "earlier"}, and every target's fingerprint still equals what that run recorded before its COMMIT (pass --redeploy to run anyway)`;
}

/**
 * `import --expect-plan`: refuses (PLAN_MISMATCH, nothing touched) unless the plan hash of
 * what the import starts from is the approved one: same release content, same effective
 * config, same target fingerprints, same environment and database.
 */
export function expectPlan(plan: RunPlan, inputs: PlanHashInputs, why?: string): string {
  const actual = planHash(inputs);
  const expected = plan.expectPlan;
  if (expected === null || matchesPlan(expected, actual)) return actual;
  throw new EtlError(
    "PLAN_MISMATCH",
    `the approved plan ${expected} does not describe this import any more: ${why ?? "the release content, the effective config or the targets changed since the plan"} (the plan hash is now ${actual})`,
    {
      step: "preflight",
      runId: plan.runId,
      data: "untouched",
      meta: { expected, actual, inputs },
      next: `compare meta.inputs with the approved plan's plan.inputs; then run atomic-etl plan ${plan.release} --env ${plan.target.env}, review the new plan, and deploy it with --expect-plan <its hash>`,
    },
  );
}
