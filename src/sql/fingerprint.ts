import { type QualifiedName, qualified } from "./quote.js";
import type { Statement } from "./statement.js";

/**
 * Row count plus an order-independent hash: the sum of the first 64 bits of md5 of each
 * row's text form (a sum, unlike XOR, does not cancel out duplicate rows).
 */
export function fingerprint(table: QualifiedName): Statement {
  return {
    text: `SELECT count(*)::bigint AS rows, COALESCE(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint::numeric), 0)::text AS hash FROM ${qualified(table)} AS t`,
    values: [],
  };
}
