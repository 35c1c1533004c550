import { type QualifiedName, qualified, quoteIdent, relationOid } from "./quote.js";
import type { Statement } from "./statement.js";

/**
 * How a fingerprint hashes a row. Stored fingerprints (backup manifests, ledger rows, drift
 * buckets) carry their format, and every comparison recomputes in the stored one:
 * - 1: the first 64 bits of md5 of the row's text form. Untagged (what every version before
 *   format 2 wrote). About 3× the cost of format 2: rendering every value as text is most of it.
 * - 2: `hash_record_extended` of the row (PostgreSQL 14+): the server's own 64-bit hash of each
 *   value, the one hash partitioning relies on staying stable. Each column enters in the form
 *   that keeps every distinct value distinct (see {@link ColumnRead}); the row's hash, linear in
 *   its columns' hashes, is then mixed (`hashint8extended(h, h)`: the seed carries all 64 bits)
 *   before the sum, so values swapped between rows still change it. Tagged `v2:` in the hash.
 */
export type FingerprintFormat = 1 | 2;

export const FORMAT_2_TAG = "v2:";

/**
 * Built-in scalar types (by `pg_catalog` name, domains over them included) whose own hash
 * function format 2 uses: it depends only on the value (not on OIDs or the session), and no
 * value but NULL hashes to 0. Under a nondeterministic collation a text column is not among
 * them (its hash ignores case or accents). bpchar ignores trailing spaces, as bpchar does.
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
  "date",
  "time",
  "timetz",
  "timestamp",
  "timestamptz",
  "uuid",
  "bytea",
  "inet",
  "cidr",
  "macaddr",
  "macaddr8",
] as const;

/**
 * Built-in scalar types whose hash calls distinct values equal, or hashes one like NULL, and so
 * enter as their binary form (its send function): float `0`, `-0` and NULL all hash 0; numeric
 * `1.0` and `1.00` hash equal (and NaN like NULL); interval `1 mon` and `30 days` hash equal.
 * The binary forms hold every bit, and depend on no session setting or encoding.
 */
export const SEND_FUNCTIONS = {
  float4: "float4send",
  float8: "float8send",
  numeric: "numeric_send",
  interval: "interval_send",
} as const;

/**
 * Element types of arrays that enter by `array_send`: binary elements and the dimensions (an
 * array's hash ignores its shape, and hashes a NULL element and a float 0 alike). Arrays of any
 * other element type (text-like ones, whose binary form follows the client's encoding) enter as
 * their text.
 */
export const BINARY_ARRAY_ELEMENTS = [
  "bool",
  "int2",
  "int4",
  "int8",
  "oid",
  "float4",
  "float8",
  "numeric",
  "date",
  "time",
  "timetz",
  "timestamp",
  "timestamptz",
  "interval",
  "uuid",
  "bytea",
] as const;

/**
 * How format 2 reads a column: `value` (its own hash), `send:<type>` (its binary form, by
 * {@link SEND_FUNCTIONS}), `array` (`array_send`), or `text` (its text in the C collation: types
 * without a stable hash, enums, whose hash is their OID, json, jsonb, composites, ranges …).
 */
export type ColumnRead = "value" | "text" | "array" | `send:${keyof typeof SEND_FUNCTIONS}`;

/** A column as format 2 reads it. */
export interface HashedColumn {
  name: string;
  read: ColumnRead;
}

const list = (names: readonly string[]) => `ARRAY[${names.map((t) => `'${t}'`).join(", ")}]::text[]`;
const builtIn = (t: string, names: readonly string[]) =>
  `(${t}.typnamespace = 'pg_catalog'::regnamespace AND ${t}.typname::text = ANY(${list(names)}))`;

/**
 * The table's columns in order, each with how format 2 reads it ({@link ColumnRead}), and
 * whether the server has `hash_record_extended` at all (PostgreSQL 14+). No bind parameters:
 * the restore runs it in a psql session. The type names are this file's constants.
 */
export function hashedColumns(table: QualifiedName): Statement {
  const deterministic = `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_collation co WHERE co.oid = a.attcollation AND NOT co.collisdeterministic)`;
  return {
    text: `SELECT a.attname::text AS name,
        CASE WHEN e.typcategory = 'A' AND el.oid IS NOT NULL THEN (CASE WHEN ${builtIn("el", BINARY_ARRAY_ELEMENTS)} THEN 'array' ELSE 'text' END)
             WHEN ${builtIn("e", Object.keys(SEND_FUNCTIONS))} THEN 'send:' || e.typname::text
             WHEN ${builtIn("e", HASHED_TYPES)} AND ${deterministic} THEN 'value'
             ELSE 'text' END AS read,
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

/** Parses a `read` from {@link hashedColumns}; anything unexpected reads as text. */
export function columnRead(read: string): ColumnRead {
  if (read === "value" || read === "array") return read;
  const type = read.startsWith("send:") ? read.slice(5) : "";
  return Object.hasOwn(SEND_FUNCTIONS, type) ? (read as ColumnRead) : "text";
}

function readColumn(c: HashedColumn): string {
  const col = `t.${quoteIdent(c.name)}`;
  if (c.read === "value") return col;
  if (c.read === "array") return `pg_catalog.array_send(${col})`;
  if (c.read === "text") return `${col}::text COLLATE "C"`;
  return `pg_catalog.${SEND_FUNCTIONS[c.read.slice(5) as keyof typeof SEND_FUNCTIONS]}(${col})`;
}

/** Per row of alias `t`, a signed 64-bit hash in the given format (`columns`: format 2's columns, in table order). */
export function rowHash(format: FingerprintFormat, columns: readonly HashedColumn[]): string {
  if (format === 1) return `('x' || left(md5(t::text), 16))::bit(64)::bigint`;
  // hash_record_extended combines its columns' hashes linearly (h = 31·h + h(col)), so a plain sum
  // over rows would be a sum of per-column sums, blind to values swapped between rows; it is mixed
  // non-linearly first. hashint8extended folds its value to 32 bits, so h is also its seed, which
  // enters whole (the planner computes h twice: measured cheaper than a subquery that computes it once)
  const h = recordHash(columns);
  return `hashint8extended(${h}, ${h})`;
}

/** Format 2's unmixed hash of `columns` of alias `t` (linear in theirs: enough to pick a bucket, not to sum). */
const recordHash = (columns: readonly HashedColumn[]) => `hash_record_extended(ROW(${columns.map(readColumn).join(", ")}), 0)`;

/**
 * Per row of alias `t`, a number from 0 to `n − 1` that depends only on `key` (so an UPDATE
 * stays in its bucket) or, without a key, on the whole row. A single integer key is its own
 * bucket (`key mod n`).
 */
export function keyBucket(format: FingerprintFormat, key: readonly HashedColumn[], integerKey: boolean, n: number): string {
  if (integerKey) return `((t.${quoteIdent((key[0] as HashedColumn).name)} % ${n}) + ${n}) % ${n}`;
  if (format === 2) return `(${recordHash(key)} & ${n - 1})`;
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
