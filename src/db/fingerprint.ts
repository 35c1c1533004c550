import {
  FORMAT_2_TAG,
  type FingerprintFormat,
  type HashedColumn,
  columnRead,
  fingerprint as fingerprintSql,
  hashedColumns,
} from "../sql/fingerprint.js";
import type { QualifiedName } from "../sql/quote.js";
import { query, type TxLike } from "./prisma-like.js";

export type { FingerprintFormat } from "../sql/fingerprint.js";

/**
 * Row count plus an order-independent hash of the rows. Equal fingerprints ⇔ equal row
 * multisets (with overwhelming probability). `hash` carries its format (src/sql/fingerprint.ts):
 * `v2:<sum>` for format 2, a bare sum for format 1.
 */
export interface Fingerprint {
  rows: number;
  hash: string;
}

/** The format a stored fingerprint (or its hash) was taken in. */
export function formatOf(f: Fingerprint | string): FingerprintFormat {
  return (typeof f === "string" ? f : f.hash).startsWith(FORMAT_2_TAG) ? 2 : 1;
}

/** A sum as the fingerprint of that format stores it. */
export const tagged = (format: FingerprintFormat, sum: string): string => (format === 2 ? `${FORMAT_2_TAG}${sum}` : sum);

/** How one table is hashed: the format, and format 2's columns. */
export interface RowHashing {
  format: FingerprintFormat;
  columns: HashedColumn[];
}

/**
 * One catalog query: `format` if given (a comparison with a stored fingerprint), else the newest
 * the server supports (2 on PostgreSQL 14+, else 1).
 */
export async function rowHashing(db: TxLike, table: QualifiedName, format?: FingerprintFormat): Promise<RowHashing> {
  if (format === 1) return { format, columns: [] };
  const rows = await query<{ name: string; read: string; supported: number | string }>(db, hashedColumns(table));
  const supported = Number(rows[0]?.supported ?? 1) === 1;
  if (format === 2 && !supported)
    throw new Error(`this server has no hash_record_extended (PostgreSQL 14+): it cannot check a format-2 fingerprint of ${table.name}`);
  return { format: supported ? 2 : 1, columns: rows.map((r) => ({ name: r.name, read: columnRead(r.read) })) };
}

/**
 * The one fingerprint function: used by preflight, the backup manifest, the post-rollback
 * proof and the post-restore proof (inside the restore's transaction). `format`: the stored
 * fingerprint's, when the result is compared with one; by default the newest.
 *
 * Cost: a catalog query, then one sequential scan hashing every row on the server. Measured by
 * bench/fingerprint.ts (a player_match_stats-shaped table): see the README's benchmarks.
 *
 * @example const { rows, hash } = await fingerprintTable(tx, { schema: "public", name: "teams" })
 */
export async function fingerprintTable(db: TxLike, table: QualifiedName, format?: FingerprintFormat): Promise<Fingerprint> {
  const how = await rowHashing(db, table, format);
  const [r] = await query<{ rows: bigint | number | string; hash: string }>(db, fingerprintSql(table, how.format, how.columns));
  return { rows: Number(r?.rows ?? 0), hash: tagged(how.format, String(r?.hash ?? "0")) };
}

/** Every table's fingerprint; `like`: stored fingerprints whose format each one is taken in. */
export async function fingerprintTables(
  db: TxLike,
  tables: readonly QualifiedName[],
  like?: Readonly<Record<string, Fingerprint>>,
): Promise<Record<string, Fingerprint>> {
  const out: Record<string, Fingerprint> = {};
  for (const t of tables) {
    const stored = like?.[t.name];
    out[t.name] = await fingerprintTable(db, t, stored ? formatOf(stored) : undefined);
  }
  return out;
}

/** Names of tables whose fingerprints differ. */
export function diffFingerprints(a: Record<string, Fingerprint>, b: Record<string, Fingerprint>): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((n) => a[n]?.rows !== b[n]?.rows || a[n]?.hash !== b[n]?.hash);
}
