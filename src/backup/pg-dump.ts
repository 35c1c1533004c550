import { chmod, mkdir, open, rm, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { fingerprintTable } from "../db/fingerprint.js";
import { connect, pgTx } from "../db/pg-client.js";
import { EtlError } from "../errors.js";
import type { QualifiedName } from "../sql/quote.js";
import { type BackupManifest, manifestPathOf, writeManifest } from "./manifest.js";
import { libpqEnv, resolveClientTool } from "./pg-tools.js";

export interface BackupRequest {
  url: string;
  schema: string;
  tables: readonly string[];
  dir: string;
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

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");

/**
 * Checks, before anything changes, that pg_dump can back this server up: a pg_dump older
 * than the server cannot dump it.
 */
export async function checkDumpClient(serverMajor: number): Promise<{ path: string; version: string; major: number }> {
  const tool = await resolveClientTool("pg_dump");
  if (tool.major < serverMajor) {
    throw new EtlError(
      "BACKUP_CLIENT_TOO_OLD",
      `pg_dump ${tool.major} (${tool.path}) is older than the server (PostgreSQL ${serverMajor}) and cannot back it up`,
      {
        step: "backup",
        next: `install postgresql-client-${serverMajor} (or newer) and put it first on PATH or in PG_BIN_DIR; --no-backup is the explicit way to go on without a backup`,
        meta: { pgDump: tool.version, serverMajor },
      },
    );
  }
  return tool;
}

/**
 * Dumps the target tables (custom format, 0600) in the same snapshot as their fingerprints,
 * verifies the file with `pg_restore --list`, and writes the manifest beside it.
 */
export async function takeBackup(req: BackupRequest): Promise<BackupResult> {
  const started = performance.now();
  const client = await connect(req.url, "atomic-etl:backup");
  try {
    const tx = pgTx(client);
    const [server] = await tx.$queryRawUnsafe<{ v: string; n: string; db: string }[]>(
      "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n, current_database() AS db",
    );
    const serverMajor = Math.floor(Number(server?.n) / 10000);
    const tool = await checkDumpClient(serverMajor);

    await mkdir(req.dir, { recursive: true });
    const createdAt = new Date();
    const id = `${stamp(createdAt)}_${req.environment}_${req.release ?? "manual"}_${req.runId.slice(0, 8)}`;
    const dumpPath = path.join(req.dir, `${id}.dump`);
    const fh = await open(dumpPath, "wx", 0o600);
    await fh.close();
    await chmod(dumpPath, 0o600);

    // One snapshot for the fingerprints and the dump.
    await tx.$executeRawUnsafe("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const [snap] = await tx.$queryRawUnsafe<{ s: string }[]>("SELECT pg_export_snapshot() AS s");
    const tables: BackupManifest["tables"] = {};
    for (const name of req.tables) {
      const q: QualifiedName = { schema: req.schema, name };
      const fp = await fingerprintTable(tx, q);
      const cols = await tx.$queryRawUnsafe<{ c: string }[]>(
        "SELECT a.attname AS c FROM pg_attribute a WHERE a.attrelid = to_regclass(format('%I.%I', $1::text, $2::text)) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        req.schema,
        name,
      );
      tables[name] = { ...fp, columns: cols.map((c) => c.c) };
    }
    const args = ["--format=custom", "--compress=6", "--no-owner", "--no-privileges", `--snapshot=${snap?.s}`, `--file=${dumpPath}`];
    if (req.mode === "tables") for (const t of req.tables) args.push(`--table=${quoteForPattern(req.schema)}.${quoteForPattern(t)}`);
    const r = await execa(tool.path, args, { env: libpqEnv(req.url), extendEnv: true, reject: false, stdin: "ignore" });
    await tx.$executeRawUnsafe("COMMIT");
    if (r.exitCode !== 0) {
      await rm(dumpPath, { force: true });
      throw new EtlError("BACKUP_FAILED", `pg_dump failed (exit ${r.exitCode}): ${r.stderr.trim().split("\n").slice(-3).join(" ")}`, {
        step: "backup",
        next: "fix the cause above, or run with --no-backup where the environment allows it",
      });
    }
    await verifyDump(dumpPath, req.mode === "tables" ? req.tables : null);
    const size = (await stat(dumpPath)).size;
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
      serverVersion: server?.v ?? "",
      pgDumpVersion: tool.version,
      mode: req.mode,
      dumpFile: path.basename(dumpPath),
      sizeBytes: size,
      durationMs: Math.round(performance.now() - started),
      tables,
    };
    const manifestPath = manifestPathOf(dumpPath);
    await writeManifest(manifestPath, manifest);
    return { manifest, dumpPath, manifestPath };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** pg_dump's -t takes a pattern: quote the name so it matches exactly that name. */
function quoteForPattern(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Reads the dump's table of contents with `pg_restore --list`; the TABLE DATA entries must
 * equal the expected tables. An unreadable or incomplete file is BACKUP_VERIFY_FAILED.
 */
export async function verifyDump(dumpPath: string, expectTables: readonly string[] | null): Promise<string[]> {
  const tool = await resolveClientTool("pg_restore");
  const r = await execa(tool.path, ["--list", dumpPath], { reject: false, stdin: "ignore" });
  if (r.exitCode !== 0) {
    throw new EtlError("BACKUP_VERIFY_FAILED", `pg_restore cannot read ${path.basename(dumpPath)}: ${r.stderr.trim()}`, {
      step: "backup",
      meta: { dumpPath },
    });
  }
  const found = [...r.stdout.matchAll(/^\d+;\s+\d+\s+\d+\s+TABLE DATA\s+(\S+)\s+(.+?)\s+\S+$/gm)].map((m) => m[2] as string);
  if (expectTables) {
    const want = [...expectTables].sort();
    const got = [...found].sort();
    if (want.join("\0") !== got.join("\0")) {
      throw new EtlError("BACKUP_VERIFY_FAILED", `backup ${path.basename(dumpPath)} holds tables [${got.join(", ")}], expected [${want.join(", ")}]`, {
        step: "backup",
        meta: { dumpPath },
      });
    }
  }
  return found;
}
