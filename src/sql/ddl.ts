import type { ForeignKeyInfo } from "./catalog.js";
import { identList, type QualifiedName, qualified, quoteIdent } from "./quote.js";
import type { Statement } from "./statement.js";

/**
 * DDL inside the one transaction: staging and swap tables, the bulk rebuild's indexes and
 * FKs, and the swap's renames. DDL takes no bind parameters: values become literals only
 * through {@link literal}.
 */

// ---- swap DDL ---------------------------------------------------------------------------
/**
 * DDL takes no bind parameters: the one place a value becomes a literal. The E'' form
 * escapes both `'` and `\`, so it means the same whatever standard_conforming_strings is.
 */
export function literal(value: string): string {
  if (value.includes("\u0000")) throw new Error("a SQL literal cannot contain a NUL byte");
  return `E'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/**
 * A TEMP staging table shaped like `like`: columns and defaults, plus (with `constraints`)
 * NOT NULL, CHECK constraints and generated columns; never indexes or FKs. Dropped at
 * COMMIT, gone with a ROLLBACK.
 *
 * @example createStaging("atomic_etl_stage_players", { schema: "public", name: "players" }, { constraints: true })
 */
export function createStaging(name: string, like: QualifiedName, opts: { constraints: boolean }): Statement {
  const more = opts.constraints ? " INCLUDING CONSTRAINTS INCLUDING GENERATED" : "";
  return { text: `CREATE TEMP TABLE ${quoteIdent(name)} (LIKE ${qualified(like)} INCLUDING DEFAULTS${more}) ON COMMIT DROP`, values: [] };
}

/** Lets a staging column hold NULL (an identity column whose value is drawn at the final insert). */
export function dropNotNull(table: QualifiedName, column: string): Statement {
  return { text: `ALTER TABLE ${qualified(table)} ALTER COLUMN ${quoteIdent(column)} DROP NOT NULL`, values: [] };
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

/** A new, empty table with `like`'s columns, defaults, identity, constraints, indexes, comments, storage and statistics. */
export function createTableLike(
  table: QualifiedName,
  like: QualifiedName,
  opts: { unlogged: boolean; tablespace: string | null },
): Statement {
  return {
    text: `CREATE ${opts.unlogged ? "UNLOGGED " : ""}TABLE ${qualified(table)} (LIKE ${qualified(like)} INCLUDING ALL)${opts.tablespace ? ` TABLESPACE ${quoteIdent(opts.tablespace)}` : ""}`,
    values: [],
  };
}

/** `ALTER TABLE … SET (k = 'v')`, or for one column `ALTER COLUMN c SET (…)`. */
export function setOptions(table: QualifiedName, column: string | null, options: readonly (readonly [string, string])[]): Statement {
  const list = options.map(([k, v]) => `${quoteIdent(k)} = ${literal(v)}`).join(", ");
  return {
    text: `ALTER TABLE ${qualified(table)} ${column === null ? "" : `ALTER COLUMN ${quoteIdent(column)} `}SET (${list})`,
    values: [],
  };
}

export function setStatisticsTarget(table: QualifiedName, column: string, target: number): Statement {
  if (!Number.isInteger(target)) throw new Error(`statistics target must be an integer (got ${target})`);
  return { text: `ALTER TABLE ${qualified(table)} ALTER COLUMN ${quoteIdent(column)} SET STATISTICS ${target}`, values: [] };
}

export function setReplicaIdentity(table: QualifiedName, identity: "FULL" | "NOTHING" | { index: string }): Statement {
  const what = typeof identity === "string" ? identity : `USING INDEX ${quoteIdent(identity.index)}`;
  return { text: `ALTER TABLE ${qualified(table)} REPLICA IDENTITY ${what}`, values: [] };
}

export function commentOnTable(table: QualifiedName, comment: string): Statement {
  return { text: `COMMENT ON TABLE ${qualified(table)} IS ${literal(comment)}`, values: [] };
}

export function alterOwner(table: QualifiedName, role: string): Statement {
  return { text: `ALTER TABLE ${qualified(table)} OWNER TO ${quoteIdent(role)}`, values: [] };
}

const PRIVILEGES = new Set(["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"]);

/** One privilege on a table (or some of its columns) to a role, or to PUBLIC when `grantee` is null. */
export function grant(
  table: QualifiedName,
  privilege: string,
  grantee: string | null,
  opts: { columns?: readonly string[]; grantable: boolean },
): Statement {
  if (!PRIVILEGES.has(privilege)) throw new Error(`unknown table privilege ${privilege}`);
  const cols = opts.columns?.length ? ` (${identList(opts.columns)})` : "";
  return {
    text: `GRANT ${privilege}${cols} ON TABLE ${qualified(table)} TO ${grantee === null ? "PUBLIC" : quoteIdent(grantee)}${opts.grantable ? " WITH GRANT OPTION" : ""}`,
    values: [],
  };
}

export function revokeAll(table: QualifiedName, grantee: string | null): Statement {
  return { text: `REVOKE ALL ON TABLE ${qualified(table)} FROM ${grantee === null ? "PUBLIC" : quoteIdent(grantee)}`, values: [] };
}

/** ON UPDATE / ON DELETE actions as pg_constraint spells them. */
const ACTIONS: Record<string, string> = { a: "NO ACTION", r: "RESTRICT", c: "CASCADE", n: "SET NULL", d: "SET DEFAULT" };

/** A foreign key as pg_constraint holds it. */
export interface ForeignKeyDef {
  name: string;
  columns: string[];
  referencedColumns: string[];
  onUpdate: string;
  onDelete: string;
  /** Columns of `ON DELETE SET NULL (…)` / `SET DEFAULT (…)`, empty for all. */
  onDeleteColumns: string[];
  matchFull: boolean;
  deferrable: boolean;
  initiallyDeferred: boolean;
}

/** `ALTER TABLE t ADD CONSTRAINT name FOREIGN KEY (…) REFERENCES parent (…) …`, checking every row. */
export function addForeignKey(table: QualifiedName, fk: ForeignKeyDef, references: QualifiedName): Statement {
  const action = (code: string) => {
    const a = ACTIONS[code];
    if (!a) throw new Error(`unknown foreign key action ${code}`);
    return a;
  };
  const setCols = fk.onDeleteColumns.length ? ` (${identList(fk.onDeleteColumns)})` : "";
  return {
    text:
      `ALTER TABLE ${qualified(table)} ADD CONSTRAINT ${quoteIdent(fk.name)} FOREIGN KEY (${identList(fk.columns)}) REFERENCES ${qualified(references)} (${identList(fk.referencedColumns)})` +
      `${fk.matchFull ? " MATCH FULL" : ""} ON UPDATE ${action(fk.onUpdate)} ON DELETE ${action(fk.onDelete)}${setCols}` +
      `${fk.deferrable ? ` DEFERRABLE INITIALLY ${fk.initiallyDeferred ? "DEFERRED" : "IMMEDIATE"}` : ""}`,
    values: [],
  };
}

/** Moves an owned sequence (serial) to a column of another table, so dropping the old one keeps it. */
export function sequenceOwnedBy(sequence: QualifiedName, table: QualifiedName, column: string): Statement {
  return { text: `ALTER SEQUENCE ${qualified(sequence)} OWNED BY ${qualified(table)}.${quoteIdent(column)}`, values: [] };
}

/** Carries a sequence's position over to another; PL/pgSQL, for {@link doBlock}. */
export function copySequenceState(to: QualifiedName, from: QualifiedName): Statement {
  return { text: `PERFORM setval(${literal(qualified(to))}::regclass, s.last_value, s.is_called) FROM ${qualified(from)} s`, values: [] };
}

/**
 * Parameterless statements run in one round trip, as `DO $tag$ BEGIN …; …; END $tag$`
 * (the dollar-quote tag is one the body does not contain). Keeps a final phase that holds
 * exclusive locks down to a single exchange with the server.
 */
export function doBlock(statements: readonly Statement[]): Statement {
  if (statements.some((s) => s.values.length)) throw new Error("a DO block takes no bind parameters");
  const body = statements.map((s) => `  ${s.text};`).join("\n");
  let tag = "$atomic_etl$";
  for (let i = 1; body.includes(tag); i++) tag = `$atomic_etl_${i}$`;
  return { text: `DO ${tag}\nBEGIN\n${body}\nEND\n${tag}`, values: [] };
}

/** `DROP TABLE a, b` without CASCADE: anything still depending on them makes it fail. */
export function dropTables(tables: readonly QualifiedName[]): Statement {
  return { text: `DROP TABLE ${tables.map(qualified).join(", ")}`, values: [] };
}

export function renameRelation(kind: "TABLE" | "INDEX" | "SEQUENCE" | "STATISTICS", from: QualifiedName, to: string): Statement {
  return { text: `ALTER ${kind} ${qualified(from)} RENAME TO ${quoteIdent(to)}`, values: [] };
}

/** Recomputes a materialized view; CONCURRENTLY keeps its readers unblocked (needs a unique index, a populated view). */
export function refreshMaterializedView(view: QualifiedName, concurrently: boolean): Statement {
  return { text: `REFRESH MATERIALIZED VIEW ${concurrently ? "CONCURRENTLY " : ""}${qualified(view)}`, values: [] };
}

/**
 * A TEMP table shaped like `like` with its defaults, CHECK and NOT NULL constraints,
 * generated columns and indexes (unique and exclusion ones included), but no FKs and no
 * rows: where a refused batch is replayed, in a transaction that is always rolled back, to
 * find the record that breaks a constraint. Partitioned when `partitionKey` (pg_get_partkeydef's text) is given.
 */
export function createProbeTable(name: string, like: QualifiedName, partitionKey: string | null): Statement {
  const parts = partitionKey ? ` PARTITION BY ${partitionKey}` : "";
  return {
    text: `CREATE TEMP TABLE ${quoteIdent(name)} (LIKE ${qualified(like)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING INDEXES)${parts}`,
    values: [],
  };
}

/** A TEMP partition of a probe table, with the bound (pg_get_expr's text) of the partition it stands for. */
export function createProbePartition(name: string, parent: string, bound: string, partitionKey: string | null): Statement {
  const parts = partitionKey ? ` PARTITION BY ${partitionKey}` : "";
  return { text: `CREATE TEMP TABLE ${quoteIdent(name)} PARTITION OF ${quoteIdent(parent)} ${bound}${parts}`, values: [] };
}
