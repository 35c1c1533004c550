import path from "node:path";
import type { Logger } from "pino";
import { type BackupScope, databaseOf, inScope, outcomeOf } from "../backup/backup-scope.js";
import type { RunOutcome } from "../backup/manifest.js";
import { sweepOrphans } from "../backup/orphans.js";
import { type BackupEntry, listBackups } from "../backup/retention.js";
import { dumpPresent, isGoodBackup } from "../backup/verify.js";
import { chooseEnvironment } from "../config/environment-choice.js";
import type { LoadedConfig } from "../config/load.js";
import { resolveTarget } from "../config/target.js";
import { identityOf } from "../db/database-identity.js";
import { EtlError } from "../errors.js";

/** One line of `atomic-etl backups`. */
export interface BackupRow {
  id: string;
  createdAt: string;
  release: string | null;
  /** What became of the backup's run; `unknown` for format 1. `restore latest` takes only `committed` ones. */
  outcome: RunOutcome | "unknown";
  /** The database it is of: `name (oid …, system …)`, or the name with "identity unknown" for format 1. */
  database: string;
  formatVersion: 1 | 2;
  tables: string[];
  rows: number;
  sizeBytes: number;
  /** `ok`; `missing`/`size differs` (cheap checks); with --verify, `corrupt` when sha256 or pg_restore disagree. */
  state: "ok" | "missing" | "size differs" | "corrupt";
  path: string;
}

export interface BackupsOptions {
  env?: string;
  /** Every database's backups, without connecting; otherwise only those of the database the URL reaches. */
  all?: boolean;
  /** Also check every dump's sha256 and table of contents. */
  verify?: boolean;
  url?: string;
  log: Logger;
}

export interface BackupListing {
  env: string;
  /** Only this database's backups are listed (not `all`). */
  scoped: boolean;
  rows: BackupRow[];
  /** Backups of the environment left out: other databases, schemas, unknown identity. */
  hidden: number;
}

async function rowOf(b: BackupEntry, deep: boolean): Promise<BackupRow> {
  const m = b.manifest;
  const present = await dumpPresent(b);
  const state: BackupRow["state"] = present !== "ok" ? present : deep && !(await isGoodBackup(b)) ? "corrupt" : "ok";
  return {
    id: m.id,
    createdAt: m.createdAt,
    release: m.release,
    outcome: outcomeOf(m),
    database: databaseOf(m),
    formatVersion: m.formatVersion,
    tables: [...Object.keys(m.tables), ...m.otherTables.map((t) => `${t.schema}.${t.name}`)],
    rows: [...Object.values(m.tables), ...m.otherTables].reduce((a, t) => a + t.rows, 0),
    sizeBytes: m.sizeBytes,
    state,
    path: b.dumpPath,
  };
}

/**
 * `atomic-etl backups`: the backups of this database (the one the environment's URL reaches)
 * and schema in the environment, newest first; `all` lists every database's and needs no
 * connection. What interrupted backups left behind is swept first (never a file a live
 * process is writing).
 *
 * @example const { rows } = await listBackupRows(config, { env: "staging", log })
 */
export async function listBackupRows(config: LoadedConfig, o: BackupsOptions): Promise<BackupListing> {
  // listing changes nothing: no --force needed; without --all, the URL says which database's
  const target = o.all ? null : ownTarget(config, o);
  const env = target?.env ?? chooseEnvironment(config, o.env).name;
  const dir = path.resolve(config.root, config.backupDir);
  await sweepOrphans(dir, { log: o.log });
  const entries = (await listBackups(dir)).filter((b) => b.manifest.environment === env);
  const scope: BackupScope | null = target && { environment: env, identity: await identityOf(target.url), schema: config.schema };
  const shown = scope ? entries.filter((b) => inScope(b.manifest, scope)) : entries;
  const rows: BackupRow[] = [];
  for (const b of shown) rows.push(await rowOf(b, o.verify === true));
  return { env, scoped: scope !== null, rows, hidden: entries.length - shown.length };
}

function ownTarget(config: LoadedConfig, o: BackupsOptions) {
  try {
    return resolveTarget(config, { env: o.env, url: o.url, force: true, danger: "list backups" });
  } catch (e) {
    if (e instanceof EtlError && e.code === "DATABASE_URL_MISSING")
      throw e.with({ next: `${e.next}, or pass --all to list every database's backups without connecting` });
    throw e;
  }
}
