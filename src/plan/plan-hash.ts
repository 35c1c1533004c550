import { createHash } from "node:crypto";
import type { DatabaseIdentity } from "../db/database-identity.js";
import type { Fingerprint } from "../db/fingerprint.js";
import { canonicalJson } from "./canonical.js";

/** What a plan hash covers: the release's content, the targets as they were, the effective config, and where. */
export interface PlanHashInputs {
  contentHash: string;
  configHash: string;
  environment: string;
  database: DatabaseIdentity;
  /** The targets' fingerprints before the run. */
  fingerprints: Readonly<Record<string, Fingerprint>>;
}

/**
 * sha256 of the inputs (64 hex digits). A plan prints it; `import --expect-plan <hash>`
 * recomputes it from what the import starts from and refuses when it differs.
 *
 * @example planHash({ contentHash, configHash, environment: "production", database, fingerprints })
 */
export function planHash(i: PlanHashInputs): string {
  const fingerprints = Object.fromEntries(Object.entries(i.fingerprints).map(([t, f]) => [t, { rows: f.rows, hash: f.hash }]));
  return createHash("sha256")
    .update(canonicalJson({ v: 1, ...i, database: { ...i.database }, fingerprints }))
    .digest("hex");
}

/** A hash as people pass it: the whole hash, or a prefix of at least 12 hex digits (as a plan's text output shows). */
export const PLAN_HASH_PATTERN = /^[0-9a-f]{12,64}$/;

export const matchesPlan = (expected: string, actual: string) => PLAN_HASH_PATTERN.test(expected) && actual.startsWith(expected);
