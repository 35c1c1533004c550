import type { LoadedConfig } from "../config/load.js";
import { resolveTarget, type Target } from "../config/target.js";
import { connect, pgTx } from "../db/pg-client.js";
import type { TxLike } from "../db/prisma-like.js";
import { withAppName } from "../runner/lock.js";

/** Where a read of the ledger goes: an environment (its database), or a URL. */
export interface LedgerReadOptions {
  env?: string;
  /** Connection URL; default: the environment variable the config names (DATABASE_URL). */
  url?: string;
}

/**
 * Runs `fn` on one plain session to the environment's database, for the ledger's readers
 * (`history`, `status`). Reading changes nothing, so production's --force rule does not apply;
 * the other target rules (a remote database needs an explicit environment) do.
 *
 * @example const rows = await withLedgerSession(config, { env: "staging" }, "history", (db) => readHistory(db, …))
 */
export async function withLedgerSession<T>(
  config: LoadedConfig,
  opts: LedgerReadOptions,
  name: string,
  fn: (db: TxLike, target: Target) => Promise<T>,
): Promise<T> {
  const target = resolveTarget(config, { env: opts.env, url: opts.url, force: true, danger: "read" });
  const c = await connect(withAppName(target.url, `atomic-etl:${name}`), `atomic-etl:${name}`);
  try {
    return await fn(pgTx(c), target);
  } finally {
    await c.end().catch(() => undefined);
  }
}
