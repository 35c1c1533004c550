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

/**
 * Rewrites the newest ledger row as a version before fingerprint format 2 wrote it: every
 * table's fingerprint after the load, and its drift buckets, in format 1 (md5 of the row's text).
 */
export async function recordAsFormat1(url: string, schema = "atomic_etl"): Promise<void> {
  const { connect, pgTx } = await import("../../src/db/pg-client.js");
  const { readBuckets } = await import("../../src/ledger/drift.js");
  const rows = await ledgerRows(url, schema);
  const last = rows[rows.length - 1] as RawRun & { drift: Record<string, { key: string[] | null; integer?: boolean }> };
  const c = await connect(url, "atomic-etl:test");
  try {
    const drift: Record<string, unknown> = {};
    const tables = [];
    for (const t of last.tables) {
      const was = last.drift[t.table];
      const now = await readBuckets(pgTx(c), { schema: last.target_schema, name: t.table }, was?.key ?? [], was?.integer === true, 1);
      drift[t.table] = now.buckets;
      tables.push({ ...t, fingerprintAfter: now.fingerprint });
    }
    await c.query(`UPDATE "${schema}".runs SET tables = $1::jsonb, drift = $2::jsonb WHERE run_id = $3`, [
      JSON.stringify(tables),
      JSON.stringify(drift),
      last.run_id,
    ]);
  } finally {
    await c.end();
  }
}
