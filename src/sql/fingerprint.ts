import { type QualifiedName, qualified, quoteIdent, relationOid } from "./quote.js";
import type { Statement } from "./statement.js";

/**
 * How a fingerprint hashes a row. Stored fingerprints (backup manifests, ledger rows, drift
 * buckets) carry their format, and every comparison recomputes in the stored one:
 * - 1: the first 64 bits of md5 of the row's text form. Untagged (what every version before
 *   format 2 wrote). About 5× the cost of format 2: rendering every value as text is most of it.
 * - 2: `hash_record_extended` of the row (PostgreSQL 14+): the server's own 64-bit hash of each
 *   value, the one hash partitioning relies on staying stable. Equal values hash equal (so
 *   numeric 1.0 and 1.00, or float −0 and 0, count as the same row). Columns whose type has no
 *   hash function, whose hash is not the same in another database (enums hash their OID), that
 *   treats distinct values as equal (interval: '1 mon' and '30 days'), or whose collation is
 *   nondeterministic, enter as their text in the C collation: see {@link HASHED_TYPES}. Each
 *   row's hash is mixed by `hashint8extended` before the sum. Tagged `v2:` in the hash.
 */
export type FingerprintFormat = 1 | 2;

export const FORMAT_2_TAG = "v2:";

/**
 * Built-in types (by `pg_catalog` name, domains over them and arrays of them included) whose
 * values format 2 hashes as they are; any other column is hashed as its text. Each has an
 * extended hash function whose result depends only on the value (not on OIDs or the session).
 */
export const HASHED_TYPES = [
  "bool",
  "char",
  "name",
  "int2",
  "int4",
  "int8",
  "oid",
  "text",
  "varchar",
  "bpchar",
  "numeric",
  "float4",
  "float8",
  "date",
  "time",
  "timetz",
  "timestamp",
  "timestamptz",
  "uuid",
  "bytea",
  "jsonb",
  "inet",
  "cidr",
  "macaddr",
  "macaddr8",
] as const;

/** A column as format 2 reads it: by its own hash, or as text. */
export interface HashedColumn {
  name: string;
  hashed: boolean;
}

/**
 * The table's columns in order, each with whether format 2 can hash it as it is (1 or 0), and
 * whether the server has `hash_record_extended` at all (PostgreSQL 14+). No bind parameters:
 * the restore runs it in a psql session. The type names are this file's constants.
 */
export function hashedColumns(table: QualifiedName): Statement {
  const names = `ARRAY[${HASHED_TYPES.map((t) => `'${t}'`).join(", ")}]::text[]`;
  const typeIsHashed = (t: string) => `(${t}.typnamespace = 'pg_catalog'::regnamespace AND ${t}.typname::text = ANY(${names}))`;
  return {
    text: `SELECT a.attname::text AS name,
        (CASE WHEN e.typcategory = 'A' AND el.oid IS NOT NULL THEN ${typeIsHashed("el")} ELSE ${typeIsHashed("e")} END
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_collation co WHERE co.oid = a.attcollation AND NOT co.collisdeterministic))::int AS hashed,
        (current_setting('server_version_num')::int >= 140000)::int AS supported
      FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
      JOIN pg_catalog.pg_type e ON e.oid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END
      LEFT JOIN pg_catalog.pg_type el ON el.oid = e.typelem AND e.typcategory = 'A'
      WHERE a.attrelid = (SELECT typrelid FROM pg_catalog.pg_type WHERE oid = ${relationOid(table)}) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    values: [],
  };
}

/** A record of `columns` of alias `t`, each hashable as it is or as its text in the C collation (bytes, whatever the column's collation). */
function hashedRow(columns: readonly HashedColumn[]): string {
  return `ROW(${columns.map((c) => `t.${quoteIdent(c.name)}${c.hashed ? "" : '::text COLLATE "C"'}`).join(", ")})`;
}

/** Per row of alias `t`, a signed 64-bit hash in the given format (`columns`: format 2's columns, in table order). */
export function rowHash(format: FingerprintFormat, columns: readonly HashedColumn[]): string {
  // hash_record_extended combines its columns' hashes linearly (h = 31·h + h(col)), so a plain sum
  // over rows would be a sum of per-column sums, blind to values swapped between rows;
  // hashint8extended mixes each row's hash non-linearly first
  return format === 1
    ? `('x' || left(md5(t::text), 16))::bit(64)::bigint`
    : `hashint8extended(hash_record_extended(${hashedRow(columns)}, 0), 0)`;
}

/**
 * Per row of alias `t`, a number from 0 to `n − 1` that depends only on `key` (so an UPDATE
 * stays in its bucket) or, without a key, on the whole row. A single integer key is its own
 * bucket (`key mod n`).
 */
export function keyBucket(format: FingerprintFormat, key: readonly HashedColumn[], integerKey: boolean, n: number): string {
  if (integerKey) return `((t.${quoteIdent((key[0] as HashedColumn).name)} % ${n}) + ${n}) % ${n}`;
  if (format === 2) return `(${rowHash(2, key)} & ${n - 1})`;
  return `('x' || left(md5(${key.length ? `ROW(${key.map((k) => `t.${quoteIdent(k.name)}`).join(", ")})::text` : "t::text"}), 4))::bit(16)::int % ${n}`;
}

/**
 * Row count plus an order-independent hash: the sum of every row's 64-bit hash (a sum, unlike
 * XOR, does not cancel out duplicate rows). `columns`: the table's, for format 2.
 */
export function fingerprint(table: QualifiedName, format: FingerprintFormat, columns: readonly HashedColumn[]): Statement {
  return {
    text: `SELECT count(*)::bigint AS rows, COALESCE(sum(${rowHash(format, columns)}::numeric), 0)::text AS hash FROM ${qualified(table)} AS t`,
    values: [],
  };
}
