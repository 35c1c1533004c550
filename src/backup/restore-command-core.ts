import path from "node:path";
import type { LoadedConfig } from "../config/load.js";
import { resolveEnvironment } from "../config/load.js";
import { pickEnvironmentName } from "../config/environments.js";
import { acquireRunLock } from "../db/advisory-lock.js";
import { EtlError } from "../errors.js";
import { listBackups } from "./retention.js";
import { restoreBackup, type RestoreResult } from "./restore.js";

/**
 * `atomic-etl restore <id|latest>`: finds the backup, takes the same advisory lock as
 * imports, and restores its tables atomically (see restore.ts).
 */
export async function restoreById(config: LoadedConfig, opts: { id: string; env?: string; force?: boolean; waitMs?: number }): Promise<RestoreResult & { id: string }> {
  const { name: env, settings } = resolveEnvironment(config, pickEnvironmentName(opts.env));
  if (settings.requireForce && !opts.force) {
    throw new EtlError("PRODUCTION_REQUIRES_FORCE", `DANGER: restoring ${env} replaces its tables; refused without --force, nothing was touched`, {
      step: "config",
      next: "re-run with --force",
    });
  }
  const urlVar = config.databaseUrlEnv[env] ?? "DATABASE_URL";
  const url = process.env[urlVar];
  if (!url) throw new EtlError("DATABASE_URL_MISSING", `${urlVar} is not set`, { step: "config" });
  const dir = path.resolve(config.root, config.backupDir);
  const all = (await listBackups(dir)).filter((b) => b.manifest.environment === env);
  const b = opts.id === "latest" ? all[0] : all.find((x) => x.manifest.id === opts.id);
  if (!b) {
    throw new EtlError("BACKUP_NOT_FOUND", `no backup "${opts.id}" for environment ${env} in ${dir}`, {
      step: "restore",
      next: "list them with: atomic-etl backups --env " + env,
    });
  }
  const lock = await acquireRunLock(url, b.manifest.schema, { applicationName: "atomic-etl:restore", waitMs: opts.waitMs });
  try {
    const r = await restoreBackup(url, b.dumpPath, b.manifest);
    return { ...r, id: b.manifest.id };
  } finally {
    await lock.release().catch(() => undefined);
  }
}
