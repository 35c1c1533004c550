import path from "node:path";
import type { Logger } from "pino";
import { pickEnvironmentName } from "../config/environments.js";
import type { LoadedConfig } from "../config/load.js";
import { resolveEnvironment } from "../config/load.js";
import { acquireRunLock } from "../db/advisory-lock.js";
import { EtlError } from "../errors.js";
import { recordRestore } from "../ledger/record.js";
import { silentLogger } from "../reporting/logger.js";
import { listBackups } from "./retention.js";
import { isGoodBackup } from "./verify.js";
import { restoreBackup, type RestoreResult } from "./restore.js";

export interface RestoreByIdOptions {
  /** A backup id, or `latest` (the newest backup of the environment). */
  id: string;
  env?: string;
  /** Required for environments with `requireForce` (production). */
  force?: boolean;
  /** Wait up to this long for a running import's lock instead of failing fast. */
  waitMs?: number;
  /** Connection URL; default: the environment variable the config names (DATABASE_URL). */
  url?: string;
  log?: Logger;
}

/**
 * `atomic-etl restore <id|latest>`: finds the environment's backup, takes the same advisory
 * lock as imports, and restores its tables atomically (see {@link restoreBackup}).
 *
 * @example await restoreById(config, { id: "latest", env: "staging" })
 */
export async function restoreById(config: LoadedConfig, opts: RestoreByIdOptions): Promise<RestoreResult & { id: string }> {
  const log = opts.log ?? silentLogger();
  const { name: env, settings } = resolveEnvironment(config, pickEnvironmentName(opts.env));
  if (settings.requireForce && !opts.force) {
    throw new EtlError(
      "PRODUCTION_REQUIRES_FORCE",
      `DANGER: restoring ${env} replaces the data of its tables; refused without --force, nothing was touched`,
      {
        step: "config",
        next: `re-run with --force once you mean to replace ${env} data`,
      },
    );
  }
  const urlVar = config.databaseUrlEnv[env] ?? "DATABASE_URL";
  const url = opts.url ?? process.env[urlVar];
  if (!url) throw new EtlError("DATABASE_URL_MISSING", `${urlVar} is not set`, { step: "config", next: `export ${urlVar}=postgresql://…` });
  const dir = path.resolve(config.root, config.backupDir);
  const all = (await listBackups(dir)).filter((b) => b.manifest.environment === env);
  const b = opts.id === "latest" ? all[0] : all.find((x) => x.manifest.id === opts.id);
  if (!b) {
    throw new EtlError("BACKUP_NOT_FOUND", `no backup "${opts.id}" for environment ${env} in ${dir}`, {
      step: "restore",
      next: `list them with: atomic-etl backups --env ${env}`,
    });
  }
  const lock = await acquireRunLock(url, b.manifest.schema, { applicationName: "atomic-etl:restore", waitMs: opts.waitMs });
  const restore = { url, environment: env, backupId: b.manifest.id, manifest: b.manifest, startedAt: new Date(), log };
  try {
    const r = await restoreBackup(url, b.dumpPath, b.manifest, {
      log: log.child({ backup: b.manifest.id }),
      lockTimeoutMs: settings.lockTimeoutMs,
    });
    await recordRestore(config, restore);
    return { ...r, id: b.manifest.id };
  } catch (e) {
    if (e instanceof EtlError) await recordRestore(config, { ...restore, error: e });
    // Never a silent step back to older data: name the newest backup that does verify.
    if (e instanceof EtlError && e.code === "BACKUP_VERIFY_FAILED") {
      let good: (typeof all)[number] | undefined;
      for (const other of all) {
        if (other !== b && (await isGoodBackup(other))) {
          good = other;
          break;
        }
      }
      throw e.with({
        next: good
          ? `the newest backup of ${env} that verifies is ${good.manifest.id} (taken ${good.manifest.createdAt}); if its data is what you want: atomic-etl restore ${good.manifest.id} --env ${env}`
          : `no other backup of ${env} verifies; restore by hand`,
      });
    }
    throw e;
  } finally {
    await lock.release().catch(() => undefined);
  }
}
