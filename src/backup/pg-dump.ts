import { chmod, mkdir, open, rm, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { fingerprintTables } from "../db/fingerprint.js";
import { connect, pgTx } from "../db/pg-client.js";
import { EtlError } from "../errors.js";
import { readCatalog } from "../db/catalog.js";
import { compressionChoices, lacksCompression } from "./compression.js";
import { type BackupManifest, manifestPathOf, writeManifest } from "./manifest.js";
import { libpqEnv, type ResolvedTool, resolveClientTool } from "./pg-tools.js";
import { inspectDump, sha256File } from "./verify.js";

export interface BackupRequest {
  url: string;
  schema: string;
  tables: readonly string[];
  dir: string;
  /** `tables`: the target tables only; `full`: the whole database. */
  mode: "tables" | "full";
  environment: string;
  release: string | null;
  releaseHash: string | null;
  runId: string;
}

export interface BackupResult {
  manifest: BackupManifest;
  dumpPath: string;
  manifestPath: string;
}

/** `2026-11-21T21:27:49.123Z` → `20261121T212749Z`: ids sort by time. */
const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");

/** Keeps ids usable as file names whatever the release is called. */
const fileSafe = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, "-");

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
 * Backs up the target tables (or the whole database): pg_dump in custom format, compressed
 * as its version allows, into a 0600 file named `<time>_<environment>_<release>_<run>.dump`,
 * in the same snapshot as the fingerprints of the manifest. The dump is then read back in
 * full by pg_restore; a backup that fails any of this is deleted and stops the run before
 * anything has changed.
 *
 * @example const { manifest } = await takeBackup({ url, schema: "public", tables: ["leagues"], dir: "backups", mode: "tables", environment: "local", release: "league-2026", releaseHash, runId })
 */
export async function takeBackup(req: BackupRequest): Promise<BackupResult> {
  const started = performance.now();
  const client = await connect(req.url, "atomic-etl:backup");
  let dumpPath: string | null = null;
  try {
    const tx = pgTx(client);
    const [server] = await tx.$queryRawUnsafe<{ v: string; n: string; db: string }[]>(
      "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n, current_database() AS db",
    );
    const serverVersion = server?.v ?? "";
    const tool = await checkDumpClient(Math.floor(Number(server?.n) / 10000), serverVersion);

    await mkdir(req.dir, { recursive: true, mode: 0o700 });
    const createdAt = new Date();
    const id = `${stamp(createdAt)}_${fileSafe(req.environment)}_${fileSafe(req.release ?? "manual")}_${req.runId.slice(0, 8)}`;
    dumpPath = path.join(req.dir, `${id}.dump`);
    const fh = await open(dumpPath, "wx", 0o600);
    await fh.close();
    await chmod(dumpPath, 0o600); // whatever the umask

    // One snapshot for the fingerprints, the columns and the dump.
    await tx.$executeRawUnsafe("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const [snap] = await tx.$queryRawUnsafe<{ s: string }[]>("SELECT pg_export_snapshot() AS s");
    const catalog = await readCatalog(tx, req.schema, req.tables);
    const fingerprints = await fingerprintTables(
      tx,
      req.tables.map((name) => ({ schema: req.schema, name })),
    );
    const tables: BackupManifest["tables"] = {};
    for (const name of req.tables) {
      const fp = fingerprints[name] ?? { rows: 0, hash: "0" };
      tables[name] = {
        rows: fp.rows,
        hash: fp.hash,
        columns: (catalog.get(name)?.columns ?? []).map((c) => ({ name: c.name, type: c.formatted })),
      };
    }
    const args = ["--format=custom", "--no-owner", "--no-privileges", `--snapshot=${snap?.s}`, `--file=${dumpPath}`];
    if (req.mode === "tables") for (const t of req.tables) args.push(`--table=${quoteForPattern(req.schema)}.${quoteForPattern(t)}`);
    let compression = "";
    let stderr = "";
    let ok = false;
    for (const choice of compressionChoices(tool.major)) {
      const r = await execa(tool.path, [choice.arg, ...args], { env: libpqEnv(req.url), reject: false, stdin: "ignore" });
      compression = choice.label;
      stderr = r.stderr;
      ok = r.exitCode === 0;
      if (ok || !lacksCompression(r.stderr)) break;
    }
    await tx.$executeRawUnsafe("COMMIT");
    if (!ok) {
      throw new EtlError("BACKUP_FAILED", `pg_dump failed: ${stderr.trim().split("\n").slice(-3).join(" ")}`, {
        step: "backup",
        next: "fix the cause above, or run with --no-backup where the environment allows it",
      });
    }
    await inspectDump(dumpPath, req.schema, req.tables, req.mode, { deep: true, step: "backup" });
    const manifest: BackupManifest = {
      formatVersion: 1,
      id,
      createdAt: createdAt.toISOString(),
      environment: req.environment,
      release: req.release,
      releaseHash: req.releaseHash,
      runId: req.runId,
      database: server?.db ?? "",
      schema: req.schema,
      serverVersion,
      pgDumpVersion: tool.version,
      mode: req.mode,
      compression,
      dumpFile: path.basename(dumpPath),
      sizeBytes: (await stat(dumpPath)).size,
      sha256: await sha256File(dumpPath),
      durationMs: Math.round(performance.now() - started),
      tables,
    };
    const manifestPath = manifestPathOf(dumpPath);
    await writeManifest(manifestPath, manifest);
    return { manifest, dumpPath, manifestPath };
  } catch (e) {
    // A backup that is not complete and verified is not kept: nobody should trust it later.
    if (dumpPath) await rm(dumpPath, { force: true });
    throw e;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** pg_dump's --table takes a pattern: quoting the name makes it match exactly that name. */
function quoteForPattern(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
