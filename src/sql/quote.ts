/** A schema-qualified relation name. Never built by splitting on dots. */
export interface QualifiedName {
  schema: string;
  name: string;
}

/**
 * Quotes one SQL identifier: the only place atomic-etl turns a name into SQL text.
 * Embedded double quotes are doubled; NUL bytes are refused (Postgres cannot hold them).
 *
 * @example quoteIdent('we"ird') // => "we""ird"
 */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error("an SQL identifier cannot be empty");
  if (name.includes("\u0000")) throw new Error("an SQL identifier cannot contain a NUL byte");
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."table"` from a {@link QualifiedName}. */
export function qualified(q: QualifiedName): string {
  return `${quoteIdent(q.schema)}.${quoteIdent(q.name)}`;
}

/** A comma-separated list of quoted identifiers. */
export function identList(names: readonly string[]): string {
  return names.map(quoteIdent).join(", ");
}

/**
 * SQL for the OID of a table's row type, from its name without a literal or a bind parameter
 * (a psql session takes none): the typed NULL names the row type; its `typrelid` is the table.
 */
export function relationOid(t: QualifiedName): string {
  return `pg_typeof(NULL::${qualified(t)})::oid`;
}
