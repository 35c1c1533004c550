import { fingerprint as fingerprintSql } from "../sql/fingerprint.js";
import type { QualifiedName } from "../sql/quote.js";
import { query, type TxLike } from "./prisma-like.js";

/** Row count plus an order-independent hash of the rows' text. Equal fingerprints ⇔ equal row multisets (with overwhelming probability). */
export interface Fingerprint {
  rows: number;
  hash: string;
}

/**
 * The one fingerprint function: used by preflight, the backup manifest, the post-rollback
 * proof and the post-restore proof (inside the restore's transaction).
 *
 * Cost: one sequential scan, and per row its text form, an md5 and a numeric add, all on the
 * server. Measured by bench/fingerprint.ts: about 4 s per million rows of a
 * player_match_stats-shaped table (72 MB) on a shared 2-core machine, some 45× a bare
 * `count(*)`; the row-to-text cast, the md5 and the hex-to-numeric sum each take about a
 * third. An import with a backup pays it twice per target before loading (preflight, and the
 * manifest in the dump's snapshot); a restore once more.
 *
 * @example const { rows, hash } = await fingerprintTable(tx, { schema: "public", name: "teams" })
 */
export async function fingerprintTable(db: TxLike, table: QualifiedName): Promise<Fingerprint> {
  const [r] = await query<{ rows: bigint | number | string; hash: string }>(db, fingerprintSql(table));
  return { rows: Number(r?.rows ?? 0), hash: String(r?.hash ?? "0") };
}

export async function fingerprintTables(db: TxLike, tables: readonly QualifiedName[]): Promise<Record<string, Fingerprint>> {
  const out: Record<string, Fingerprint> = {};
  for (const t of tables) out[t.name] = await fingerprintTable(db, t);
  return out;
}

/** Names of tables whose fingerprints differ. */
export function diffFingerprints(a: Record<string, Fingerprint>, b: Record<string, Fingerprint>): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((n) => a[n]?.rows !== b[n]?.rows || a[n]?.hash !== b[n]?.hash);
}
