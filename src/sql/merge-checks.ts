import type { ForeignKeyInfo } from "./catalog.js";
import { col, keyMatch, type MergeSpec } from "./merge.js";
import { identList, type QualifiedName, qualified, quoteIdent } from "./quote.js";
import type { Statement } from "./statement.js";

/**
 * SQL of a merge plan's checks: the rows the upsert will write, materialised in a TEMP probe
 * table with the target's NOT NULL and CHECK constraints, then tested for what the upsert
 * would hit on the real table (other unique keys, foreign keys). Read only on the targets.
 */

/** The probe: the target's columns, NOT NULL and CHECK constraints; no defaults (nextval must never run in a plan). */
export function createProbe(probe: QualifiedName, target: QualifiedName): Statement {
  return {
    text: `CREATE TEMP TABLE ${quoteIdent(probe.name)} (LIKE ${qualified(target)} INCLUDING CONSTRAINTS) ON COMMIT DROP`,
    values: [],
  };
}

/**
 * Fills the probe with each changed row as the upsert will store it: a new key with every
 * column the release gives, a match with its `update` columns from the release and the rest
 * as stored.
 */
export function fillProbe(s: MergeSpec, probe: QualifiedName): Statement {
  const value = (c: string) =>
    s.key.includes(c) || s.update.includes(c) ? col("c", c) : `CASE WHEN t.ctid IS NULL THEN ${col("c", c)} ELSE ${col("t", c)} END`;
  return {
    text: `INSERT INTO ${qualified(probe)} (${identList(s.insert)}) SELECT ${s.insert.map(value).join(", ")} FROM ${qualified(s.changes)} c LEFT JOIN ${qualified(s.target)} t ON ${keyMatch(s, "t", "c")}`,
    values: [],
  };
}

/**
 * A stored row of another merge key that holds, now, the value of unique key `columns` a
 * written row takes: the upsert's unique violation. Even when that row changes too, the
 * upsert checks each row as it writes it, in no set order, so a value moving between rows
 * fails as well. The stored row's key comes back as `held0`, `held1` ….
 */
export function probeCollision(s: MergeSpec, probe: QualifiedName, columns: readonly string[]): Statement {
  const same = columns.map((c) => `${col("t", c)} = ${col("p", c)}`).join(" AND ");
  const held = s.key.map((k, i) => `${col("t", k)}::text AS held${i}`);
  return {
    text: `SELECT ${[...columns.map((c) => `${col("p", c)}::text AS ${quoteIdent(c)}`), ...held].join(", ")} FROM ${qualified(probe)} p JOIN ${qualified(s.target)} t ON ${same} WHERE NOT (${keyMatch(s, "t", "p")}) LIMIT 1`,
    values: [],
  };
}

/** A written row whose FK has no parent: neither stored nor among the parent's written rows (parents are merged first). */
export function probeOrphan(probe: QualifiedName, fk: ForeignKeyInfo, parentProbe: QualifiedName | null): Statement {
  const match = (alias: string) =>
    fk.columns.map((c, i) => `${col(alias, fk.referencedColumns[i] as string)} = ${col("p", c)}`).join(" AND ");
  const parents = [
    `NOT EXISTS (SELECT 1 FROM ${qualified(fk.references)} x WHERE ${match("x")})`,
    ...(parentProbe ? [`NOT EXISTS (SELECT 1 FROM ${qualified(parentProbe)} y WHERE ${match("y")})`] : []),
  ];
  return {
    text: `SELECT ${fk.columns.map((c) => `${col("p", c)}::text AS ${quoteIdent(c)}`).join(", ")} FROM ${qualified(probe)} p WHERE ${fk.columns.map((c) => `${col("p", c)} IS NOT NULL`).join(" AND ")} AND ${parents.join(" AND ")} LIMIT 1`,
    values: [],
  };
}
