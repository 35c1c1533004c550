import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { devNull } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { EtlError, type Step } from "../errors.js";
import type { BackupManifest } from "./manifest.js";
import { resolveClientTool } from "./pg-tools.js";
import { type TableDataEntry, tableDataEntries } from "./toc.js";

/** sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/**
 * Reads a dump with pg_restore: its table of contents (`--list`) must hold exactly the
 * `tables` (mode `tables`) or at least them (mode `full`); with `deep`, every data block is
 * also read and decompressed (`pg_restore --file=/dev/null`), which the table of contents
 * alone does not prove. Anything else is BACKUP_VERIFY_FAILED.
 *
 * @example const entries = await inspectDump("backups/x.dump", "public", ["leagues"], "tables", { deep: true, step: "backup" })
 */
export async function inspectDump(
  dumpPath: string,
  schema: string,
  tables: readonly string[],
  mode: BackupManifest["mode"],
  opts: { deep: boolean; step: Step },
): Promise<TableDataEntry[]> {
  const name = path.basename(dumpPath);
  const fail = (why: string) => new EtlError("BACKUP_VERIFY_FAILED", `backup ${name} ${why}`, { step: opts.step, meta: { dumpPath } });
  const tool = await resolveClientTool("pg_restore", process.env, opts.step);
  const list = await execa(tool.path, ["--list", dumpPath], { reject: false, stdin: "ignore" });
  if (list.exitCode !== 0) throw fail(`cannot be read by pg_restore: ${lastLines(list.stderr)}`);
  const entries = tableDataEntries(list.stdout, schema, tables);
  const found = entries.filter((e) => e.schema === schema).map((e) => e.table);
  const missing = tables.filter((t) => !found.includes(t));
  const extra =
    mode === "tables" ? entries.filter((e) => e.schema !== schema || !tables.includes(e.table)).map((e) => `${e.schema}.${e.table}`) : [];
  if (missing.length || extra.length) {
    throw fail(
      `holds the wrong tables:${missing.length ? ` missing ${missing.join(", ")}` : ""}${extra.length ? ` unexpected ${extra.join(", ")}` : ""}`,
    );
  }
  if (opts.deep) {
    const all = await execa(tool.path, [`--file=${devNull}`, dumpPath], { reject: false, stdin: "ignore" });
    if (all.exitCode !== 0) throw fail(`is unreadable past its table of contents: ${lastLines(all.stderr)}`);
  }
  return entries;
}

/**
 * Checks a stored backup before it is trusted: the dump exists, has the manifest's size and
 * sha256, and its table of contents lists the manifest's tables. A truncated or altered file
 * fails here, before anything is touched.
 *
 * @example await verifyBackup({ manifest, dumpPath }, "restore")
 */
export async function verifyBackup(b: { manifest: BackupManifest; dumpPath: string }, step: Step): Promise<TableDataEntry[]> {
  const m = b.manifest;
  const fail = (why: string) =>
    new EtlError("BACKUP_VERIFY_FAILED", `backup ${m.id} ${why}`, {
      step,
      meta: { dumpPath: b.dumpPath },
      next: "pick an older backup (atomic-etl backups) or restore by hand",
    });
  const st = await stat(b.dumpPath).catch(() => null);
  if (!st?.isFile()) throw fail(`has no dump file (${b.dumpPath})`);
  if (st.size !== m.sizeBytes) throw fail(`is ${st.size} bytes, its manifest says ${m.sizeBytes}: truncated or replaced`);
  if ((await sha256File(b.dumpPath)) !== m.sha256)
    throw fail("does not match the sha256 in its manifest: the file was altered or corrupted");
  return inspectDump(b.dumpPath, m.schema, Object.keys(m.tables), m.mode, { deep: false, step });
}

/** A backup that passes {@link verifyBackup}. */
export async function isGoodBackup(b: { manifest: BackupManifest; dumpPath: string }): Promise<boolean> {
  return verifyBackup(b, "verify").then(
    () => true,
    () => false,
  );
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" ");
}
