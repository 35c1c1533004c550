import { qualified, quoteIdent } from "./quote.js";
import type { Statement } from "./statement.js";

/**
 * SQL of the release ledger (src/ledger/): its versioned DDL, the row a run writes, and the
 * reads of `history`, `status` and the redeploy check. Pure `{ text, values }` builders;
 * the ledger's schema is quoted like every other name, every value is a bind parameter.
 */

const runs = (schema: string) => qualified({ schema, name: "runs" });
const versions = (schema: string) => qualified({ schema, name: "ledger_version" });

export const begin = (): Statement => ({ text: "BEGIN", values: [] });
export const commit = (): Statement => ({ text: "COMMIT", values: [] });
export const rollback = (): Statement => ({ text: "ROLLBACK", values: [] });

/** Serialises ledger upgrades across runs on any target schema (held until the DDL's COMMIT). */
export function ledgerUpgradeLock(classId: number, key: number): Statement {
  return { text: "SELECT pg_advisory_xact_lock($1, $2)", values: [classId, key] };
}

/**
 * Whether the ledger exists. Read from pg_class with the statement's own snapshot, not
 * through to_regclass: the session's catalog cache may not have seen another session's
 * CREATE yet (advisory locks process no invalidations).
 */
export function ledgerExists(schema: string): Statement {
  return {
    text: "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'ledger_version') AS ok",
    values: [schema],
  };
}

export function ledgerVersion(schema: string): Statement {
  return { text: `SELECT COALESCE(max(version), 0)::int AS version FROM ${versions(schema)}`, values: [] };
}

export function markLedgerVersion(schema: string, version: number, toolVersion: string): Statement {
  return {
    text: `INSERT INTO ${versions(schema)} (version, tool_version) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING`,
    values: [version, toolVersion],
  };
}

/** Whether the ledger's schema exists (an owner may have created it for a role that may not create schemas). */
export function ledgerSchemaExists(schema: string): Statement {
  return { text: "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS ok", values: [schema] };
}

/** Only run when the schema is missing: CREATE SCHEMA checks the CREATE privilege on the database even with IF NOT EXISTS. */
export function createLedgerSchema(schema: string): Statement {
  return { text: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`, values: [] };
}

/**
 * Version 1 (in the ledger's schema): the version table and the runs table with the columns of a run:
 * what ran, on which release and content, with which counts and fingerprints, and who ran it.
 */
export function ledgerV1(schema: string): Statement[] {
  return [
    {
      text: `CREATE TABLE IF NOT EXISTS ${versions(schema)} (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(), tool_version text NOT NULL)`,
      values: [],
    },
    {
      text: `CREATE TABLE IF NOT EXISTS ${runs(schema)} (
  run_id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('import', 'restore')),
  release text,
  environment text NOT NULL,
  target_schema text NOT NULL,
  outcome text NOT NULL,
  strategy text,
  content_hash text,
  tables jsonb NOT NULL DEFAULT '[]'::jsonb,
  backup_id text,
  txid text,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  error_code text,
  error_message text,
  tool_version text NOT NULL,
  git_commit text,
  os_user text,
  host text
)`,
      values: [],
    },
  ];
}

/**
 * Version 2: provenance of the approval workflow (config and plan hashes), the database's
 * identity, per-table drift buckets, and the index the redeploy check and `status` read by.
 */
export function ledgerV2(schema: string): Statement[] {
  return [
    {
      text: `ALTER TABLE ${runs(schema)} ADD COLUMN IF NOT EXISTS config_hash text, ADD COLUMN IF NOT EXISTS plan_hash text, ADD COLUMN IF NOT EXISTS database jsonb, ADD COLUMN IF NOT EXISTS drift jsonb`,
      values: [],
    },
    {
      text: `CREATE INDEX IF NOT EXISTS runs_by_release ON ${runs(schema)} (environment, release, finished_at DESC)`,
      values: [],
    },
  ];
}

/** The columns a run writes, in insert order (v1 then v2). */
export const RUN_COLUMNS = [
  "run_id",
  "kind",
  "release",
  "environment",
  "target_schema",
  "outcome",
  "strategy",
  "content_hash",
  "tables",
  "backup_id",
  "txid",
  "started_at",
  "error_code",
  "error_message",
  "tool_version",
  "git_commit",
  "os_user",
  "host",
  "config_hash",
  "plan_hash",
  "database",
  "drift",
] as const;

const JSONB = new Set(["tables", "database", "drift"]);

/** One run's row; `finished_at` is the server's clock at the insert (inside the run's transaction: just before COMMIT). */
export function insertRun(schema: string, values: Readonly<Record<(typeof RUN_COLUMNS)[number], unknown>>): Statement {
  const params = RUN_COLUMNS.map((c, i) => (JSONB.has(c) ? `$${i + 1}::jsonb` : c === "run_id" ? `$${i + 1}::uuid` : `$${i + 1}`));
  return {
    text: `INSERT INTO ${runs(schema)} (${RUN_COLUMNS.join(", ")}, finished_at) VALUES (${params.join(", ")}, clock_timestamp())`,
    values: RUN_COLUMNS.map((c) => (JSONB.has(c) && values[c] !== null ? JSON.stringify(values[c]) : values[c])),
  };
}

/** Rows as JSON objects: a ledger an older tool created (fewer columns) reads the same way. */
const SELECT_RUN = "SELECT to_jsonb(r) AS row";
/** The last committed import of a release into this environment's targets: what a redeploy and `status` compare with. */
export function lastCommitted(schema: string, environment: string, release: string, targetSchema: string): Statement {
  return {
    text: `${SELECT_RUN} FROM ${runs(schema)} r WHERE kind = 'import' AND outcome = 'committed' AND environment = $1 AND release = $2 AND target_schema = $3 ORDER BY finished_at DESC LIMIT 1`,
    values: [environment, release, targetSchema],
  };
}

/** The newest rows first, optionally of one release; without drift buckets (they are for `status`). */
export function historyRows(schema: string, environment: string, release: string | null, limit: number): Statement {
  return {
    text: `SELECT to_jsonb(r) - 'drift' AS row FROM ${runs(schema)} r WHERE environment = $1 AND ($2::text IS NULL OR release = $2) ORDER BY finished_at DESC, started_at DESC LIMIT $3`,
    values: [environment, release, limit],
  };
}

/** The newest committed restore of this environment's targets after `since` (what may explain drift). */
export function restoreSince(schema: string, environment: string, targetSchema: string, since: Date | string): Statement {
  return {
    text: `${SELECT_RUN} FROM ${runs(schema)} r WHERE kind = 'restore' AND outcome = 'committed' AND environment = $1 AND target_schema = $2 AND finished_at > $3::timestamptz ORDER BY finished_at DESC LIMIT 1`,
    values: [environment, targetSchema, since],
  };
}
