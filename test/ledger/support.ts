/**
 * Reads of the ledger for tests, through a plain `pg` connection (never through the code
 * under test): every row of `<schema>.runs`, and the ledger's version.
 */
import type { LedgerTable } from "../../src/ledger/ledger-row.js";
import { sql } from "../fixtures/core/kit.js";

export interface RawRun {
  run_id: string;
  kind: string;
  release: string | null;
  environment: string;
  target_schema: string;
  outcome: string;
  strategy: string | null;
  content_hash: string | null;
  tables: LedgerTable[];
  backup_id: string | null;
  txid: string | null;
  started_at: Date;
  finished_at: Date;
  error_code: string | null;
  error_message: string | null;
  tool_version: string;
  git_commit: string | null;
  os_user: string | null;
  host: string | null;
  config_hash?: string | null;
  plan_hash?: string | null;
  database?: Record<string, unknown> | null;
}

/** Every row of the ledger, oldest first; [] when there is no ledger. */
export async function ledgerRows(url: string, schema = "atomic_etl"): Promise<RawRun[]> {
  const [exists] = await sql<{ ok: boolean }>(url, {
    text: "SELECT to_regclass(format('%I.runs', $1::text)) IS NOT NULL AS ok",
    values: [schema],
  });
  if (!exists?.ok) return [];
  return sql<RawRun>(url, `SELECT * FROM "${schema}".runs ORDER BY finished_at, started_at`);
}

/** Whether the ledger's schema exists at all. */
export async function ledgerSchemaExists(url: string, schema = "atomic_etl"): Promise<boolean> {
  const [r] = await sql<{ ok: boolean }>(url, {
    text: "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS ok",
    values: [schema],
  });
  return r?.ok === true;
}
