import type { LoadedConfig } from "../config/load.js";
import type { TxLike } from "../db/prisma-like.js";
import { formatOf } from "../db/fingerprint.js";
import { compareBuckets, readBuckets } from "../ledger/drift.js";
import type { LedgerRow } from "../ledger/ledger-row.js";
import { readLastCommitted, readRestoreSince } from "../ledger/read.js";
import { type LedgerReadOptions, withLedgerSession } from "../ledger/session.js";
import { checkReleaseFiles } from "../release/release-files.js";

/** One target of a deployed release, now against what its deploy recorded right before COMMIT. */
export interface TableStatus {
  table: string;
  state: "in sync" | "drifted" | "unreadable";
  rowsRecorded: number | null;
  rowsNow: number | null;
  /**
   * At least this many rows differ (see DriftVerdict): counted from the fingerprint's
   * buckets by primary key; null when only "fingerprint differs" is known.
   */
  rowsDiffer: number | null;
  bucketsDiffer: number | null;
  buckets: number | null;
  /** `buckets`: counted by key bucket; `fingerprint`: the deploy recorded no buckets, only equal or not is known. */
  method: "buckets" | "fingerprint";
  error?: string;
}

export interface ReleaseStatus {
  release: string;
  /** The last committed import of the release here; null: never deployed (or no ledger). */
  deployed: Pick<
    LedgerRow,
    "runId" | "finishedAt" | "contentHash" | "planHash" | "gitCommit" | "osUser" | "host" | "toolVersion" | "backupId" | "strategy"
  > | null;
  /** The release's files now against the deployed ones: null when they cannot be read. */
  filesChanged: string[] | null;
  filesError?: string;
  tables: TableStatus[];
  /** A restore committed after the deploy (a likely reason for drift). */
  restoredAfter: { backupId: string | null; finishedAt: string | null } | null;
  inSync: boolean | null;
}

export interface Status {
  environment: string;
  ledgerSchema: string;
  releases: ReleaseStatus[];
}

/**
 * `atomic-etl status`: per release, its last deploy here (content hash, time, origin), whether
 * its files changed since, and per table whether the targets still hold what that deploy
 * committed: one scan per table (as a fingerprint costs), compared bucket by bucket, so a
 * drifted table says how many rows differ at least. Reads only, takes no lock.
 *
 * @example const s = await status(config, { env: "production" }) // s.releases[0].tables[1] → { table: "players", state: "drifted", rowsDiffer: 3 }
 */
export async function status(config: LoadedConfig, opts: LedgerReadOptions & { release?: string } = {}): Promise<Status> {
  const names = opts.release ? [opts.release] : Object.keys(config.releases);
  return withLedgerSession(config, opts, "status", async (db, target) => {
    const releases: ReleaseStatus[] = [];
    for (const release of names) releases.push(await releaseStatus(config, db, target.env, release));
    return { environment: target.env, ledgerSchema: config.ledgerSchema, releases };
  });
}

async function releaseStatus(config: LoadedConfig, db: TxLike, environment: string, release: string): Promise<ReleaseStatus> {
  const last = await readLastCommitted(db, config.ledgerSchema, { environment, release, targetSchema: config.schema });
  if (!last) return { release, deployed: null, filesChanged: null, tables: [], restoredAfter: null, inSync: null };
  const tables: TableStatus[] = [];
  for (const t of last.tables) tables.push(await tableStatus(db, last, t.table));
  const restore = last.finishedAt
    ? await readRestoreSince(db, config.ledgerSchema, { environment, targetSchema: last.targetSchema, since: last.finishedAt })
    : null;
  const { runId, finishedAt, contentHash, planHash, gitCommit, osUser, host, toolVersion, backupId, strategy } = last;
  return {
    release,
    deployed: { runId, finishedAt, contentHash, planHash, gitCommit, osUser, host, toolVersion, backupId, strategy },
    ...(await filesSince(config, release, last)),
    tables,
    restoredAfter: restore && { backupId: restore.backupId, finishedAt: restore.finishedAt },
    inSync: tables.every((t) => t.state === "in sync"),
  };
}

async function tableStatus(db: TxLike, last: LedgerRow, table: string): Promise<TableStatus> {
  const recorded = last.tables.find((t) => t.table === table)?.fingerprintAfter ?? null;
  const buckets = last.drift?.[table] ?? null;
  const base = { table, rowsRecorded: recorded?.rows ?? null };
  try {
    // read in the format the ledger recorded, so a row recorded by an older version still compares
    const format = buckets ? (buckets.format ?? 1) : recorded ? formatOf(recorded) : undefined;
    const now = await readBuckets(db, { schema: last.targetSchema, name: table }, buckets?.key ?? [], buckets?.integer === true, format);
    if (buckets) {
      const { drifted, ...counted } = compareBuckets(buckets, now.buckets);
      return { ...base, state: drifted ? "drifted" : "in sync", rowsNow: now.fingerprint.rows, ...counted, method: "buckets" };
    }
    const drifted = !recorded || recorded.rows !== now.fingerprint.rows || recorded.hash !== now.fingerprint.hash;
    const state = drifted ? "drifted" : "in sync";
    return { ...base, state, rowsNow: now.fingerprint.rows, rowsDiffer: null, bucketsDiffer: null, buckets: null, method: "fingerprint" };
  } catch (e) {
    return {
      ...base,
      state: "unreadable",
      rowsNow: null,
      rowsDiffer: null,
      bucketsDiffer: null,
      buckets: null,
      method: "fingerprint",
      error: (e as Error).message,
    };
  }
}

/** Which of the deployed files now hash differently (or are gone, or new). */
async function filesSince(
  config: LoadedConfig,
  release: string,
  last: LedgerRow,
): Promise<Pick<ReleaseStatus, "filesChanged" | "filesError">> {
  const releaseConfig = config.releases[release];
  if (!releaseConfig) return { filesChanged: null, filesError: `release ${release} is not in the config` };
  try {
    const { files } = await checkReleaseFiles(config, release, releaseConfig);
    const deployed = new Map(last.tables.map((t) => [t.file, t.sha256]));
    const changed = files.filter((f) => deployed.get(f.file) !== f.sha256).map((f) => f.file);
    const gone = [...deployed.keys()].filter((f) => f !== null && !files.some((x) => x.file === f)) as string[];
    return { filesChanged: [...changed, ...gone] };
  } catch (e) {
    return { filesChanged: null, filesError: (e as Error).message };
  }
}
