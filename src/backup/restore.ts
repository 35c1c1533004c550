import { execa } from "execa";
import { diffFingerprints, fingerprintTables } from "../db/fingerprint.js";
import { connect, pgTx } from "../db/pg-client.js";
import { EtlError } from "../errors.js";
import { readCatalog } from "../sql/catalog.js";
import { qualified } from "../sql/quote.js";
import { deleteAll, truncateTables } from "../sql/statements.js";
import type { BackupManifest } from "./manifest.js";
import { verifyDump } from "./pg-dump.js";
import { libpqEnv, resolveClientTool } from "./pg-tools.js";

export interface RestoreResult {
  tables: string[];
  durationMs: number;
}

/**
 * Restores the tables of a backup atomically: one psql session with --single-transaction
 * clears the tables and replays the dump's data, so a failure mid-restore leaves the
 * database as it was. The caller holds the run lock. Afterwards every table is
 * re-fingerprinted and must equal the manifest.
 */
export async function restoreBackup(url: string, dumpPath: string, manifest: BackupManifest): Promise<RestoreResult> {
  const started = performance.now();
  const names = Object.keys(manifest.tables);
  await verifyDump(dumpPath, manifest.mode === "tables" ? names : null);
  const client = await connect(url, "atomic-etl:restore");
  let clear: string;
  try {
    const tx = pgTx(client);
    const catalog = await readCatalog(tx, manifest.schema, names).catch((e: unknown) => {
      throw new EtlError("RESTORE_SCHEMA_MISMATCH", `cannot restore ${manifest.id}: ${(e as Error).message}`, { step: "restore", cause: e });
    });
    const problems: string[] = [];
    for (const [name, t] of Object.entries(manifest.tables)) {
      const now = catalog.get(name)?.columns.map((c) => c.name) ?? [];
      if (now.join(",") !== t.columns.join(",")) problems.push(`${name}: columns now (${now.join(", ")}), in the backup (${t.columns.join(", ")})`);
    }
    if (problems.length) {
      throw new EtlError("RESTORE_SCHEMA_MISMATCH", `the schema changed since backup ${manifest.id}:\n  ${problems.join("\n  ")}`, {
        step: "restore",
        next: "migrate the database back to the backup's schema, or restore by hand with pg_restore",
      });
    }
    const targets = names.map((n) => ({ schema: manifest.schema, name: n }));
    const outside = names.some((n) => catalog.get(n)?.referencedBy.some((fk) => !names.includes(fk.table.name)));
    clear = outside ? [...targets].reverse().map((t) => `${deleteAll(t).text};`).join("\n") : `${truncateTables(targets).text};`;
  } finally {
    await client.end().catch(() => undefined);
  }

  const pgRestore = await resolveClientTool("pg_restore");
  const psql = await resolveClientTool("psql");
  // pg_restore streams the data as SQL into one psql session, between a BEGIN we write and
  // a COMMIT we write only once pg_restore has exited 0: a dump that breaks mid-way ends the
  // session inside the open transaction, and the server rolls it back.
  const psqlRun = execa(psql.path, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], { env: libpqEnv(url), reject: false, stdin: "pipe" });
  const restore = execa(pgRestore.path, ["--data-only", "--no-owner", "--no-privileges", "--file=-", dumpPath], { reject: false, stdin: "ignore" });
  const sink = psqlRun.stdin;
  sink.on("error", () => undefined); // psql stopped early; its exit code tells why
  sink.write(`BEGIN;\nSET client_min_messages = warning;\n${clear}\n`);
  restore.stdout.pipe(sink, { end: false });
  const source = await restore;
  if (source.exitCode === 0) sink.end("COMMIT;\n");
  else sink.end();
  const r = await psqlRun;
  if (source.exitCode !== 0 || r.exitCode !== 0) {
    const why = (source.exitCode !== 0 ? source.stderr : r.stderr).trim().split("\n").slice(-3).join(" ");
    throw new EtlError("RESTORE_FAILED", `restore of ${manifest.id} failed and was rolled back: ${why}`, {
      step: "restore",
      data: "rolled back; database unchanged",
    });
  }
  await proveEqualsManifest(url, manifest);
  return { tables: names, durationMs: Math.round(performance.now() - started) };
}

/** Re-fingerprints the manifest's tables; any difference is RESTORE_VERIFY_FAILED. */
export async function proveEqualsManifest(url: string, manifest: BackupManifest): Promise<void> {
  const client = await connect(url, "atomic-etl:verify");
  try {
    const now = await fingerprintTables(pgTx(client), Object.keys(manifest.tables).map((name) => ({ schema: manifest.schema, name })));
    const diff = diffFingerprints(now, manifest.tables);
    if (diff.length) {
      throw new EtlError("RESTORE_VERIFY_FAILED", `after restore, ${diff.map((d) => qualified({ schema: manifest.schema, name: d })).join(", ")} differ from backup ${manifest.id}`, {
        step: "restore",
        data: "unknown",
      });
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
