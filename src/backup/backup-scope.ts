import { type DatabaseIdentity, formatIdentity, sameDatabase } from "../db/database-identity.js";
import type { RunOutcome, StoredManifest } from "./manifest.js";

/**
 * Which backups belong together: one environment, one database identity, one schema. `latest`
 * and retention only ever look inside one scope; backups of format 1 (identity unknown) belong
 * to none.
 */
export interface BackupScope {
  environment: string;
  identity: DatabaseIdentity;
  schema: string;
}

/**
 * True when the backup was taken of this database and schema, in this environment.
 *
 * @example inScope(manifest, { environment: "local", identity, schema: "public" }) // => true
 */
export function inScope(m: StoredManifest, s: BackupScope): boolean {
  return m.environment === s.environment && m.schema === s.schema && sameDatabase(m.identity, s.identity);
}

/** The backup's run outcome; `unknown` for format 1, which did not record it. */
export function outcomeOf(m: StoredManifest): RunOutcome | "unknown" {
  return m.run?.outcome ?? "unknown";
}

/**
 * A backup `latest` may pick and retention counts: its run committed. A pending backup (the run
 * never finished, or is still running), a rolled-back or restored one (the database already
 * holds that state again) is not "the state before the last release".
 */
export function isCommitted(m: StoredManifest): boolean {
  return outcomeOf(m) === "committed";
}

/**
 * The database a backup is of, for people: its identity, or its name marked as unknown.
 *
 * @example databaseOf(v1manifest) // => 'app (identity unknown: format 1)'
 */
export function databaseOf(m: StoredManifest): string {
  return m.identity ? formatIdentity(m.identity) : `${m.database} (identity unknown: format 1)`;
}
