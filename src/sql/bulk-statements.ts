import type { Statement } from "../db/prisma-like.js";
import type { ForeignKeyInfo } from "./catalog.js";
import { type QualifiedName, qualified, quoteIdent } from "./quote.js";

/**
 * SQL of the bulk rebuild (strategies/bulk-rebuild.ts): which secondary indexes and FKs the
 * targets have, and how to drop and recreate them. Definitions come from Postgres itself
 * (pg_get_indexdef / pg_get_constraintdef), so a rebuilt object is the object that was dropped.
 */

/** Non-unique, non-partial-constraint secondary indexes of the given tables, with their definitions. */
export function secondaryIndexes(schema: string, tables: readonly string[]): Statement {
  return {
    text: `SELECT t.relname AS table_name, ic.relname AS index_name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = $1 AND t.relname = ANY($2::text[]) AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY t.relname, ic.relname`,
    values: [schema, [...tables]],
  };
}

/** An FK's definition as Postgres prints it (`FOREIGN KEY (…) REFERENCES …`). */
export function constraintDefinition(table: QualifiedName, name: string): Statement {
  return {
    text: `SELECT pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c WHERE c.conrelid = to_regclass($1) AND c.conname = $2`,
    values: [qualified(table), name],
  };
}

export function dropIndex(schema: string, index: string): Statement {
  return { text: `DROP INDEX ${qualified({ schema, name: index })}`, values: [] };
}

export function dropConstraint(fk: ForeignKeyInfo): Statement {
  return { text: `ALTER TABLE ${qualified(fk.table)} DROP CONSTRAINT ${quoteIdent(fk.name)}`, values: [] };
}

/** Re-adds an FK from its catalog definition; Postgres validates every row in one join. */
export function addConstraint(fk: ForeignKeyInfo, definition: string): Statement {
  return { text: `ALTER TABLE ${qualified(fk.table)} ADD CONSTRAINT ${quoteIdent(fk.name)} ${definition}`, values: [] };
}

export function analyze(table: QualifiedName): Statement {
  return { text: `ANALYZE ${qualified(table)}`, values: [] };
}

/** True when the current role owns (or is a member of the owner of) every one of the tables. */
export function ownsTables(schema: string, tables: readonly string[]): Statement {
  return {
    text: `SELECT COALESCE(bool_and(pg_has_role(c.relowner, 'USAGE')), false) AS ok FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`,
    values: [schema, [...tables]],
  };
}
