import { createHash } from "node:crypto";
import { type Fingerprint, type FingerprintFormat, rowHashing, tagged } from "../db/fingerprint.js";
import { query, type TxLike } from "../db/prisma-like.js";
import { bucketFingerprint, FINGERPRINT_BUCKETS } from "../sql/fingerprint-buckets.js";
import type { TableInfo } from "../sql/catalog.js";
import type { QualifiedName } from "../sql/quote.js";

/**
 * A table's fingerprint in buckets, as the ledger keeps it after a load: per bucket the row
 * count and 8 hex digits of md5 over (count, sum). `key`: the columns rows were bucketed by
 * (the primary key), or null for the whole row.
 */
export interface BucketPrint {
  key: string[] | null;
  /** Bucketed by `key mod 256` (a single integer key) rather than by a hash of the key. */
  integer?: boolean;
  /** The fingerprint format (src/sql/fingerprint.ts); absent: format 1, as every ledger row before format 2. */
  format?: 2;
  counts: number[];
  /** 8 hex digits per bucket, concatenated. */
  digests: string;
}

/** What a table looks like now against its recorded buckets. */
export interface DriftVerdict {
  drifted: boolean;
  /**
   * At least this many rows differ: each differing bucket holds at least one changed row,
   * and at least as many as its count moved by. Exact when the changes fell into different
   * buckets (likely for a few rows); a lower bound when many changed. Null when the buckets
   * cannot be compared (the key columns changed): then only "fingerprint differs" is known.
   */
  rowsDiffer: number | null;
  bucketsDiffer: number | null;
  buckets: number;
}

const INTEGER = new Set(["int2", "int4", "int8"]);

/** A single-column integer primary key: its own bucket hash. */
export const integerKey = (t: TableInfo) =>
  t.primaryKey.length === 1 && INTEGER.has(t.columns.find((c) => c.name === t.primaryKey[0])?.type ?? "");

const digest = (rows: number, hash: string) => createHash("md5").update(`${rows}:${hash}`).digest("hex").slice(0, 8);

/**
 * One scan of `table`: its plain fingerprint (equal to fingerprintTable's in the same format)
 * and its buckets. `format`: the recorded buckets' when comparing; by default the newest.
 *
 * @example const { fingerprint, buckets } = await readBuckets(tx, players, ["id"])
 */
export async function readBuckets(
  db: TxLike,
  table: QualifiedName,
  key: readonly string[],
  integer = false,
  format?: FingerprintFormat,
): Promise<{ fingerprint: Fingerprint; buckets: BucketPrint }> {
  const how = await rowHashing(db, table, format);
  const keyColumns = key.map((k) => how.columns.find((c) => c.name === k) ?? { name: k, read: "text" as const });
  const rows = await query<{ b: number; rows: bigint | number | string; hash: string }>(
    db,
    bucketFingerprint(table, how.format, how.columns, keyColumns, integer && key.length === 1),
  );
  const counts = new Array<number>(FINGERPRINT_BUCKETS).fill(0);
  const digests = new Array<string>(FINGERPRINT_BUCKETS).fill(digest(0, "0"));
  let total = 0;
  let sum = 0n;
  for (const r of rows) {
    const n = Number(r.rows);
    counts[Number(r.b)] = n;
    digests[Number(r.b)] = digest(n, String(r.hash));
    total += n;
    sum += BigInt(String(r.hash));
  }
  return {
    fingerprint: { rows: total, hash: tagged(how.format, sum.toString()) },
    buckets: {
      key: key.length ? [...key] : null,
      ...(integer && key.length === 1 ? { integer: true } : {}),
      ...(how.format === 2 ? { format: 2 as const } : {}),
      counts,
      digests: digests.join(""),
    },
  };
}

/** Recorded buckets against the ones read now. */
export function compareBuckets(recorded: BucketPrint, now: BucketPrint): DriftVerdict {
  const buckets = recorded.counts.length;
  const sameKey =
    JSON.stringify(recorded.key) === JSON.stringify(now.key) &&
    !!recorded.integer === !!now.integer &&
    (recorded.format ?? 1) === (now.format ?? 1) &&
    now.counts.length === buckets;
  if (!sameKey) return { drifted: recorded.digests !== now.digests, rowsDiffer: null, bucketsDiffer: null, buckets };
  let rowsDiffer = 0;
  let bucketsDiffer = 0;
  for (let b = 0; b < buckets; b++) {
    if (recorded.digests.slice(b * 8, b * 8 + 8) === now.digests.slice(b * 8, b * 8 + 8)) continue;
    bucketsDiffer++;
    rowsDiffer += Math.max(1, Math.abs((recorded.counts[b] ?? 0) - (now.counts[b] ?? 0)));
  }
  return { drifted: bucketsDiffer > 0, rowsDiffer, bucketsDiffer, buckets };
}
