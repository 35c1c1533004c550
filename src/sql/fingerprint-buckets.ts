import { type FingerprintFormat, type HashedColumn, keyBucket, rowHash } from "./fingerprint.js";
import { type QualifiedName, qualified } from "./quote.js";
import type { Statement } from "./statement.js";

/** Buckets per table: enough that a few changed rows land in different buckets, small enough to keep in every ledger row (~3 KB a table). A power of two (format 2 masks a hash with n − 1). */
export const FINGERPRINT_BUCKETS = 256;

/**
 * The fingerprint of `table` (src/sql/fingerprint.ts) split into {@link FINGERPRINT_BUCKETS}
 * buckets by key (see `keyBucket`), in one scan. The buckets' counts and sums add up to exactly
 * the plain fingerprint. Buckets without rows are absent.
 */
export function bucketFingerprint(
  table: QualifiedName,
  format: FingerprintFormat,
  columns: readonly HashedColumn[],
  key: readonly HashedColumn[],
  integerKey = false,
): Statement {
  const n = FINGERPRINT_BUCKETS;
  // format 1 buckets a keyless row by md5 of its text; format 2 by the hash of all its columns
  const by = format === 2 && key.length === 0 ? columns : key;
  // Grouped through a join with the 0…n−1 series, not by the bucket expression itself: the planner
  // then knows there are n groups (it guesses one per row for an expression), so it aggregates in
  // parallel workers; measured at 1M rows 2.0–2.6 s against 3.1–4.9 s, the same rows and sums.
  return {
    text: `SELECT g.b, count(*)::bigint AS rows, COALESCE(sum(x.h::numeric), 0)::text AS hash FROM (SELECT ${rowHash(format, columns)} AS h, (${keyBucket(format, by, integerKey, n)})::int AS b FROM ${qualified(table)} AS t) x JOIN generate_series(0, ${n - 1}) AS g(b) ON g.b = x.b GROUP BY 1`,
    values: [],
  };
}
