import { type QualifiedName, qualified, quoteIdent } from "./quote.js";
import type { Statement } from "./statement.js";

/** Buckets per table: enough that a few changed rows land in different buckets, small enough to keep in every ledger row (~3 KB a table). */
export const FINGERPRINT_BUCKETS = 256;

/**
 * The fingerprint of `table` (src/sql/fingerprint.ts: count plus the sum of 64 bits of md5 of
 * each row's text) split into {@link FINGERPRINT_BUCKETS} buckets, in one scan. A row's bucket
 * comes from md5 of its key (so an UPDATE stays in its bucket) or, without a key, of the row
 * itself; a single integer key is its own bucket hash (`key mod 256`: no second md5 per row).
 * The buckets' counts and sums add up to exactly the plain fingerprint. Buckets
 * without rows are absent.
 */
export function bucketFingerprint(table: QualifiedName, key: readonly string[], integerKey = false): Statement {
  const n = FINGERPRINT_BUCKETS;
  // an integer key is its own stable hash; anything else goes through md5 (never a hash function that may change with the server)
  const bucket = integerKey
    ? `((${`t.${quoteIdent(key[0] as string)}`} % ${n}) + ${n}) % ${n}`
    : `('x' || left(md5(${key.length ? `ROW(${key.map((k) => `t.${quoteIdent(k)}`).join(", ")})::text` : "t::text"}), 4))::bit(16)::int % ${n}`;
  // Grouped through a join with the 0…n−1 series, not by the bucket expression itself: the planner
  // then knows there are n groups (it guesses one per row for an expression), so it aggregates in
  // parallel workers; measured at 1M rows 2.0–2.6 s against 3.1–4.9 s, the same rows and sums.
  return {
    text: `SELECT g.b, count(*)::bigint AS rows, COALESCE(sum(('x' || left(x.h, 16))::bit(64)::bigint::numeric), 0)::text AS hash FROM (SELECT md5(t::text) AS h, (${bucket})::int AS b FROM ${qualified(table)} AS t) x JOIN generate_series(0, ${n - 1}) AS g(b) ON g.b = x.b GROUP BY 1`,
    values: [],
  };
}
