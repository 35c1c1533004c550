import { constants } from "node:fs";
import { access, chmod, mkdir, open, rm, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import type { Logger } from "pino";
import { connect, pgTx } from "../db/pg-client.js";
import { isConnectionLoss } from "../db/pg-errors.js";
import { execute, query, type TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { silentLogger } from "../reporting/logger.js";
import { beginSnapshot, commit, exportSnapshot, serverVersion } from "../sql/backup-statements.js";
import type { QualifiedName } from "../sql/quote.js";
import { setLocal } from "../sql/session.js";
import { backupId, manifestPathOf, temporaryPathOf } from "./backup-files.js";
import { diesWithParent } from "./child-lifetime.js";
import { compressionChoices, lacksCompression } from "./compression.js";
import { fingerprintContents, readDumpContents } from "./dump-contents.js";
import { type BackupManifest, publishTemporary, writeManifestTemporary } from "./manifest.js";
import { type SweepResult, sweepOrphans } from "./orphans.js";
import { libpqEnv, type ResolvedTool, resolveClientTool } from "./pg-tools.js";
import { qualified } from "../sql/quote.js";
import { inspectDump } from "./verify.js";
import { sha256File } from "../release/release-files.js";

export interface BackupRequest {
  url: string;
  schema: string;
  tables: readonly string[];
  dir: string;
  /** `tables`: the target tables only (with their partitions); `full`: the whole database. */
  mode: "tables" | "full";
  environment: string;
  release: string | null;
  releaseHash: string | null;
  runId: string;
  /** For the folder sweep's log line; silent by default. */
  log?: Logger;
  /** The run's stop request (SIGINT, SIGTERM): cancels pg_dump, and the partial backup is removed. */
  signal?: AbortSignal;
}

export interface BackupResult {
  manifest: BackupManifest;
  dumpPath: string;
  manifestPath: string;
  /** What the sweep before the backup found of earlier, interrupted backups. */
  swept: SweepResult;
}

/**
 * Checks, before anything changes, that pg_dump can back this server up: a pg_dump older
 * than the server refuses to dump it, so the run stops here, naming the client to install.
 *
 * @example await checkDumpClient(16, "16.4") // throws BACKUP_CLIENT_TOO_OLD when pg_dump is 15
 */
export async function checkDumpClient(serverMajor: number, serverVersion: string): Promise<ResolvedTool> {
  const tool = await resolveClientTool("pg_dump");
  if (tool.major < serverMajor) {
    throw new EtlError(
      "BACKUP_CLIENT_TOO_OLD",
      `${tool.version} (${tool.path}) is older than the server (PostgreSQL ${serverVersion}) and cannot back it up: install the PostgreSQL ${serverMajor} client (Debian/Ubuntu: postgresql-client-${serverMajor}) or newer, or pass --no-backup to go on without a backup where the environment allows it`,
      {
        step: "backup",
        next: `install postgresql-client-${serverMajor} (or newer) and put its bin folder first on PATH or in PG_BIN_DIR; --no-backup is the explicit way to run without a backup`,
        meta: { pgDump: tool.version, serverVersion },
      },
    );
  }
  return tool;
}

/**
 * Backs up the target tables (or the whole database): pg_dump in custom format, compressed as
 * its version allows, in the same snapshot as the fingerprints of the manifest, which also
 * records the database's identity and (as `pending`) the run's outcome.
 *
 * Written atomically: first the folder is swept of what interrupted backups left; pg_dump
 * writes `<id>.dump.tmp-<pid>-<host>` (0600); the dump is read back in full by pg_restore; the
 * manifest is written under its own temporary name; then the dump and after it the manifest are
 * renamed into place. Until then nothing looks like a backup, and a backup that fails any of
 * this is deleted and stops the run before anything has changed. A partitioned target is
 * dumped with its leaf partitions, which hold its rows.
 *
 * A stop request (`signal`) cancels pg_dump (SIGTERM) and removes the partial dump; one that
 * arrives after the dump removes it too, so a run stopped in its backup phase leaves no backup.
 * A folder the tool cannot create or write is BACKUP_FAILED naming the path.
 *
 * @example const { manifest } = await takeBackup({ url, schema: "public", tables: ["leagues"], dir: "backups", mode: "tables", environment: "local", release: "league-2026", releaseHash, runId })
 */
export async function takeBackup(req: BackupRequest): Promise<BackupResult> {
  const started = performance.now();
  const swept = await openBackupDir(req.dir, req.log ?? silentLogger());
  const client = await connect(req.url, "atomic-etl:backup");
  const written: string[] = [];
  try {
    const tx = pgTx(client);
    const [server] = await query<{ v: string; n: string }>(tx, serverVersion());
    const tool = await checkDumpClient(Math.floor(Number(server?.n) / 10000), server?.v ?? "");
    const createdAt = new Date();
    const id = backupId(createdAt, req.environment, req.release, req.runId);
    const dumpPath = path.join(req.dir, `${id}.dump`);
    const manifestPath = manifestPathOf(dumpPath);
    const tmpDump = temporaryPathOf(dumpPath);
    written.push(tmpDump);
    await (await open(tmpDump, "wx", 0o600)).close();
    await chmod(tmpDump, 0o600); // whatever the umask

    const { contents, dump } = await dumpInOneSnapshot(tx, tool, req, tmpDump);
    stopIfCancelled(req.signal);
    // the read-back by pg_restore and the checksum read the finished dump side by side
    const [, sha256] = await Promise.all([
      inspectDump(tmpDump, contents.dataEntries, req.mode, { deep: true, step: "backup" }),
      sha256File(tmpDump),
    ]);
    stopIfCancelled(req.signal);

    const manifest: BackupManifest = {
      formatVersion: 2,
      id,
      createdAt: createdAt.toISOString(),
      environment: req.environment,
      release: req.release,
      releaseHash: req.releaseHash,
      runId: req.runId,
      database: contents.identity.database,
      identity: contents.identity,
      run: { outcome: "pending", decidedAt: null, txid: null },
      schema: req.schema,
      serverVersion: server?.v ?? "",
      pgDumpVersion: tool.version,
      mode: req.mode,
      compression: dump.compression,
      dumpFile: path.basename(dumpPath),
      sizeBytes: (await stat(tmpDump)).size,
      sha256,
      durationMs: Math.round(performance.now() - started),
      tables: contents.tables,
      otherTables: contents.otherTables,
    };
    const tmpManifest = await writeManifestTemporary(manifestPath, manifest);
    written.push(tmpManifest);
    // the dump first: a manifest in place always has its dump
    await publishTemporary(tmpDump, dumpPath);
    written.push(dumpPath);
    await publishTemporary(tmpManifest, manifestPath);
    return { manifest, dumpPath, manifestPath, swept };
  } catch (e) {
    // A backup that is not complete and verified is not kept: nobody should trust it later.
    for (const f of written) await rm(f, { force: true });
    throw asBackupFailure(e, req.dir);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * One snapshot for the identity, fingerprints, columns, partitions and the dump. pg_dump can
 * import the snapshot only on this same database, so the identity read here is the dump's.
 * pg_dump and the fingerprints read it at the same time, each on its own backend.
 */
async function dumpInOneSnapshot(tx: TxLike, tool: ResolvedTool, req: BackupRequest, tmpDump: string) {
  await execute(tx, beginSnapshot());
  // the session sits idle in its transaction while pg_dump reads: a database-wide
  // idle_in_transaction_session_timeout shorter than the dump would end it, and the snapshot with it
  await query(tx, setLocal("idle_in_transaction_session_timeout", 0));
  const [snap] = await query<{ s: string }>(tx, exportSnapshot());
  const contents = await readDumpContents(tx, req.schema, req.tables, req.mode);
  const only = req.mode === "tables" ? [...req.tables.map((name) => ({ schema: req.schema, name })), ...contents.dataEntries] : [];
  const [dumped, printed] = await Promise.allSettled([
    runPgDump(tool, req.url, tmpDump, snap?.s ?? "", only, req.signal),
    fingerprintContents(tx, req.schema, contents),
  ]);
  if (dumped.status === "rejected") {
    // pg_dump cannot import a snapshot whose exporting session was cut: then the cause is that
    // lost connection, not the dump. Any other pg_dump error is reported as it is.
    if (snapshotGone(dumped.reason)) {
      const loss = printed.status === "rejected" && isConnectionLoss(printed.reason) ? printed.reason : await lostOnCommit(tx);
      if (loss) throw loss;
    }
    throw dumped.reason;
  }
  if (printed.status === "rejected") throw printed.reason;
  await execute(tx, commit());
  return { contents, dump: dumped.value };
}

const snapshotGone = (e: unknown) => e instanceof EtlError && e.message.includes("invalid snapshot identifier");

/** The connection loss a COMMIT of the snapshot's session runs into, or null when it commits (or fails otherwise). */
const lostOnCommit = (tx: TxLike): Promise<unknown> =>
  execute(tx, commit()).then(
    () => null,
    (e: unknown) => (isConnectionLoss(e) ? e : null),
  );

/** Creates the backup folder (0700) and sweeps it; a folder that cannot be made or read is BACKUP_FAILED. */
async function openBackupDir(dir: string, log: Logger): Promise<SweepResult> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw asBackupFailure(e, dir);
  }
  return sweepOrphans(dir, { log });
}

/** A file-system failure (EACCES, EROFS, ENOTDIR, ENOSPC, …) while writing the backup is BACKUP_FAILED, naming the path. */
function asBackupFailure(e: unknown, dir: string): unknown {
  const fsError = e as NodeJS.ErrnoException;
  if (e instanceof EtlError || typeof fsError?.code !== "string" || !fsError.syscall) return e;
  const where = fsError.path ?? dir;
  return new EtlError("BACKUP_FAILED", `cannot write the backup in ${where}: ${fsError.code} (${fsError.syscall})`, {
    step: "backup",
    file: where,
    next: `make ${dir} a folder this user can create and write (or set backupDir in the config), or run with --no-backup where the environment allows it`,
    cause: e,
    meta: { backupDir: dir, errno: fsError.code },
  });
}

/** Throws when the run was asked to stop: the caller removes what this backup wrote (the run reports the stop). */
function stopIfCancelled(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  throw new EtlError("BACKUP_FAILED", `backup cancelled (${String(signal.reason ?? "stop requested")}); the partial dump was removed`, {
    step: "backup",
    next: "run the same command again when you are ready",
  });
}

/** pg_dump into `file` from `snapshot`, with the best compression its build has; `signal` cancels it. */
async function runPgDump(
  tool: ResolvedTool,
  url: string,
  file: string,
  snapshot: string,
  only: readonly QualifiedName[],
  signal: AbortSignal | undefined,
): Promise<{ compression: string }> {
  const args = ["--format=custom", "--no-owner", "--no-privileges", `--snapshot=${snapshot}`, `--file=${file}`];
  // pg_dump's --table takes a pattern: a quoted name matches exactly that name
  for (const t of only) args.push(`--table=${qualified(t)}`);
  let stderr = "";
  for (const choice of compressionChoices(tool.major)) {
    stopIfCancelled(signal);
    const [cmd, argv] = await diesWithParent(tool.path, [choice.arg, ...args]);
    const r = await execa(cmd, argv, { env: libpqEnv(url), reject: false, stdin: "ignore", cancelSignal: signal });
    if (r.isCanceled) stopIfCancelled(signal);
    if (r.exitCode === 0) return { compression: choice.label };
    stderr = r.stderr;
    if (!lacksCompression(r.stderr)) break;
  }
  throw new EtlError("BACKUP_FAILED", `pg_dump failed: ${stderr.trim().split("\n").slice(-3).join(" ")}`, {
    step: "backup",
    next: "fix the cause above, or run with --no-backup where the environment allows it",
  });
}
