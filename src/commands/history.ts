import type { LoadedConfig } from "../config/load.js";
import type { LedgerRow } from "../ledger/ledger-row.js";
import { readHistory } from "../ledger/read.js";
import { type LedgerReadOptions, withLedgerSession } from "../ledger/session.js";

export interface HistoryOptions extends LedgerReadOptions {
  /** Only this release's runs. */
  release?: string;
  /** Newest rows shown (default 50). */
  limit?: number;
}

export interface History {
  environment: string;
  ledgerSchema: string;
  rows: LedgerRow[];
}

/**
 * `atomic-etl history`: the ledger's rows of this environment, newest first: imports
 * (committed, rolled back, refused, failed) and restores, with their content hashes,
 * counts, fingerprints and provenance. Reads only; an environment without a ledger has none.
 *
 * @example const { rows } = await history(config, { env: "staging", release: "league-2026" })
 */
export async function history(config: LoadedConfig, opts: HistoryOptions = {}): Promise<History> {
  return withLedgerSession(config, opts, "history", async (db, target) => ({
    environment: target.env,
    ledgerSchema: config.ledgerSchema,
    rows: await readHistory(db, config.ledgerSchema, { environment: target.env, release: opts.release ?? null, limit: opts.limit ?? 50 }),
  }));
}
