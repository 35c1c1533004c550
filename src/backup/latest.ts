import type { Logger } from "pino";
import type pg from "pg";
import { connect, pgTx } from "../db/pg-client.js";
import { EtlError } from "../errors.js";
import { transactionOutcome } from "../db/transaction-status.js";
import { outcomeOf } from "./backup-scope.js";
import { markBackupOutcome } from "./manifest.js";
import type { BackupEntry } from "./retention.js";

/**
 * `restore latest` among one scope's backups (newest first): the newest whose run committed.
 * Rolled-back and restored runs are skipped (the database went back to what their backup holds,
 * the state after the run before). A pending backup is resolved when its run recorded its
 * transaction id before COMMIT: `pg_xact_status` committed → it is the one (and is marked so),
 * aborted → skipped (marked rolled back), still in progress or unknown → COMMIT_IN_DOUBT, nothing
 * chosen. A pending backup without a txid belongs to a run that never sent COMMIT: skipped.
 * Returns the choice and what was skipped on the way (`id (outcome)`).
 *
 * @example const { latest, skipped } = await pickLatest(backupsOfThisDatabase, url, log)
 */
export async function pickLatest(
  entries: readonly BackupEntry[],
  url: string,
  log: Logger,
): Promise<{ latest: BackupEntry | undefined; skipped: string[] }> {
  const skipped: string[] = [];
  let client: pg.Client | null = null;
  try {
    for (const b of entries) {
      const outcome = outcomeOf(b.manifest);
      if (outcome === "committed") return { latest: b, skipped };
      const txid = b.manifest.run?.txid;
      if (outcome !== "pending" || !txid) {
        skipped.push(`${b.manifest.id} (${outcome}${outcome === "pending" ? ", COMMIT never sent" : ""})`);
        continue;
      }
      client ??= await connect(url, "atomic-etl:restore");
      const status = await transactionOutcome(pgTx(client), txid, { timeoutMs: 0 });
      if (status === "committed" || status === "aborted") {
        const marked = await markBackupOutcome(b.manifestPath, status === "committed" ? "committed" : "rolled back");
        log.info({ phase: "restore", backup: b.manifest.id, txid, status }, "resolved the outcome of a run that did not record it");
        if (status === "committed") return { latest: { ...b, manifest: marked }, skipped };
        skipped.push(`${b.manifest.id} (rolled back)`);
        continue;
      }
      throw new EtlError(
        "COMMIT_IN_DOUBT",
        `the newest backup ${b.manifest.id} belongs to a run whose COMMIT (transaction ${txid}) is ${status}: whether it or an older backup holds the state before the last release cannot be told yet; nothing was restored`,
        {
          step: "restore",
          data: "untouched",
          meta: { backup: b.manifest.id, txid, status },
          next: `wait until SELECT pg_xact_status('${txid}'::xid8) says committed or aborted, then retry; or restore a backup by its id`,
        },
      );
    }
    return { latest: undefined, skipped };
  } finally {
    await client?.end().catch(() => undefined);
  }
}
