import path from "node:path";
import type { Logger } from "pino";
import { type BackupScope, inScope, isCommitted } from "../backup/backup-scope.js";
import { pickLatest } from "../backup/latest.js";
import { type BackupEntry, listBackups } from "../backup/retention.js";
import { restoreBackup, type RestoreResult } from "../backup/restore.js";
import { assertSameDatabase } from "../backup/restore-plan.js";
import { isGoodBackup } from "../backup/verify.js";
import type { LoadedConfig } from "../config/load.js";
import { resolveTarget } from "../config/target.js";
import { acquireRunLock, holderName } from "../db/advisory-lock.js";
import { formatIdentity, identityOf } from "../db/database-identity.js";
import { EtlError } from "../errors.js";
import { recordRestore } from "../ledger/record.js";
import { silentLogger } from "../reporting/logger.js";

export interface RestoreByIdOptions {
  /** A backup id, or `latest`: the newest backup of this database and schema in the environment whose run committed. */
  id: string;
  env?: string;
  /** Required for environments with `requireForce` (production). */
  force?: boolean;
  /** Wait up to this long for a running import's lock instead of failing fast. */
  waitMs?: number;
  /** Connection URL; default: the environment variable the config names (DATABASE_URL). */
  url?: string;
  /** Restore a backup of another database here on purpose (after this database's schema check); needs an explicit id. */
  intoOtherDatabase?: boolean;
  log?: Logger;
}

/**
 * `atomic-etl restore <id|latest>`: the target as for an import (environment, --force, URL,
 * and no remote host without --env), then finds the backup, takes the same advisory lock as imports,
 * and restores every table its manifest holds atomically (see {@link restoreBackup}). A backup
 * of another database is refused (BACKUP_WRONG_DATABASE) unless `intoOtherDatabase`.
 *
 * @example await restoreById(config, { id: "latest", env: "staging" })
 */
export async function restoreById(config: LoadedConfig, opts: RestoreByIdOptions): Promise<RestoreResult & { id: string }> {
  const log = opts.log ?? silentLogger();
  const target = resolveTarget(config, { env: opts.env, force: opts.force, url: opts.url, danger: "restore" });
  const { env, settings, url } = target;
  if (opts.id === "latest" && opts.intoOtherDatabase) {
    throw new EtlError("USAGE", "`latest` is always this database's own newest backup; --into-other-database needs a backup id", {
      step: "config",
      next: `pick the backup with: atomic-etl backups --env ${env} --all, then: atomic-etl restore <id> --env ${env} --into-other-database`,
    });
  }
  const dir = path.resolve(config.root, config.backupDir);
  const scope: BackupScope = { environment: env, identity: await identityOf(url), schema: config.schema };
  const all = (await listBackups(dir)).filter((b) => b.manifest.environment === env);
  const mine = all.filter((b) => inScope(b.manifest, scope));
  const picked = opts.id === "latest" ? await pickLatest(mine, url, log) : null;
  const b = picked ? picked.latest : all.find((x) => x.manifest.id === opts.id);
  if (!b) throw notFound(opts.id, scope, all, dir);
  if (picked?.skipped.length)
    log.warn({ phase: "restore", skipped: picked.skipped }, "latest skips newer backups of runs that did not commit");
  // refused before waiting for any lock; restoreBackup checks again on its own connections
  assertSameDatabase(b.manifest, scope.identity, opts.intoOtherDatabase === true);
  const lock = await acquireRunLock(url, b.manifest.schema, { applicationName: holderName("atomic-etl:restore"), waitMs: opts.waitMs });
  // the ledger remembers restores too, so `status` shows a database that a restore moved back
  const record = { url, environment: env, backupId: b.manifest.id, manifest: b.manifest, startedAt: new Date(), log };
  try {
    const r = await restoreBackup(url, b.dumpPath, b.manifest, {
      log: log.child({ backup: b.manifest.id }),
      lockTimeoutMs: settings.lockTimeoutMs,
      intoOtherDatabase: opts.intoOtherDatabase,
      tables: "all",
    });
    await recordRestore(config, record);
    return { ...r, id: b.manifest.id };
  } catch (e) {
    if (e instanceof EtlError) await recordRestore(config, { ...record, error: e });
    // Never a silent step back to older data: name the newest backup of this database that does verify.
    if (e instanceof EtlError && e.code === "BACKUP_VERIFY_FAILED")
      throw e.with({
        next: await newestGoodHint(
          mine.filter((x) => isCommitted(x.manifest)),
          b,
          env,
        ),
      });
    throw e;
  } finally {
    await lock.release().catch(() => undefined);
  }
}

async function newestGoodHint(candidates: readonly BackupEntry[], broken: BackupEntry, env: string): Promise<string> {
  for (const other of candidates) {
    if (other !== broken && (await isGoodBackup(other))) {
      return `the newest backup of this database in ${env} that verifies is ${other.manifest.id} (taken ${other.manifest.createdAt}); if its data is what you want: atomic-etl restore ${other.manifest.id} --env ${env}`;
    }
  }
  return `no other backup of this database in ${env} verifies; restore by hand`;
}

/** BACKUP_NOT_FOUND, saying which backups were there and why `latest` did not take them. */
function notFound(id: string, scope: BackupScope, all: readonly BackupEntry[], dir: string): EtlError {
  const env = scope.environment;
  const count = (f: (b: BackupEntry) => boolean) => all.filter(f).length;
  const notes = [
    [count((b) => inScope(b.manifest, scope)), "of this database whose run did not commit (pending, rolled back or restored)"],
    [count((b) => !!b.manifest.identity && !inScope(b.manifest, scope)), "of other databases or schemas"],
    [count((b) => !b.manifest.identity), "of unknown identity (format 1)"],
  ]
    .filter(([n]) => Number(n) > 0)
    .map(([n, what]) => `${n} backup${n === 1 ? "" : "s"} ${what}`);
  const what = id === "latest" ? `no committed backup of ${formatIdentity(scope.identity)} (schema ${scope.schema})` : `no backup "${id}"`;
  return new EtlError(
    "BACKUP_NOT_FOUND",
    `${what} for environment ${env} in ${dir}${notes.length ? `; the folder holds ${notes.join(", ")}` : ""}`,
    {
      step: "restore",
      next:
        id === "latest" && notes.length
          ? `list them with: atomic-etl backups --env ${env} --all; restore one by id (another database's with --into-other-database)`
          : `list them with: atomic-etl backups --env ${env}`,
    },
  );
}
