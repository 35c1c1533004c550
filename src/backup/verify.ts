import { stat } from "node:fs/promises";
import { devNull } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { sha256File } from "../release/release-files.js";
import { EtlError, type Step } from "../errors.js";
import { type QualifiedName, qualified } from "../sql/quote.js";
import { backedUpTables, dataEntriesOf, type StoredManifest } from "./manifest.js";
import { resolveClientTool } from "./pg-tools.js";
import { type TableDataEntry, tableDataEntries } from "./toc.js";

/** Every TABLE DATA entry a backup's dump must hold: each table's own, or its leaf partitions'. */
export function expectedDataEntries(m: StoredManifest): QualifiedName[] {
  return backedUpTables(m, "all").flatMap(dataEntriesOf);
}

/**
 * Reads a dump with pg_restore: its table of contents (`--list`) must hold a TABLE DATA entry
 * for each of `expected` (tables, and the leaf partitions of partitioned ones), and in mode
 * `tables` nothing else; with `deep`, every data block is also read and decompressed
 * (`pg_restore --file=/dev/null`), which the table of contents alone does not prove. Anything
 * else is BACKUP_VERIFY_FAILED.
 *
 * @example const entries = await inspectDump("backups/x.dump", [{ schema: "public", name: "leagues" }], "tables", { deep: true, step: "backup" })
 */
export async function inspectDump(
  dumpPath: string,
  expected: readonly QualifiedName[],
  mode: StoredManifest["mode"],
  opts: { deep: boolean; step: Step },
): Promise<TableDataEntry[]> {
  const name = path.basename(dumpPath);
  const fail = (why: string) => new EtlError("BACKUP_VERIFY_FAILED", `backup ${name} ${why}`, { step: opts.step, meta: { dumpPath } });
  const tool = await resolveClientTool("pg_restore", process.env, opts.step);
  const list = await execa(tool.path, ["--list", dumpPath], { reject: false, stdin: "ignore" });
  if (list.exitCode !== 0) throw fail(`cannot be read by pg_restore: ${lastLines(list.stderr)}`);
  const entries = tableDataEntries(list.stdout, expected);
  const found = new Set(entries.map(qualified));
  const wanted = new Set(expected.map(qualified));
  const show = (t: QualifiedName) => `${t.schema}.${t.name}`;
  const missing = expected.filter((t) => !found.has(qualified(t))).map(show);
  const extra = mode === "tables" ? entries.filter((e) => !wanted.has(qualified(e))).map(show) : [];
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
 * sha256, and its table of contents lists the data of the manifest's tables (and partitions).
 * A truncated or altered file fails here, before anything is touched.
 *
 * @example await verifyBackup({ manifest, dumpPath }, "restore")
 */
export async function verifyBackup(b: { manifest: StoredManifest; dumpPath: string }, step: Step): Promise<TableDataEntry[]> {
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
  return inspectDump(b.dumpPath, expectedDataEntries(m), m.mode, { deep: false, step });
}

/** A backup that passes {@link verifyBackup}. */
export async function isGoodBackup(b: { manifest: StoredManifest; dumpPath: string }): Promise<boolean> {
  return verifyBackup(b, "verify").then(
    () => true,
    () => false,
  );
}

/** The dump is there with its manifest's size: the cheap check listings and retention make. */
export async function dumpPresent(b: { manifest: StoredManifest; dumpPath: string }): Promise<"ok" | "missing" | "size differs"> {
  const st = await stat(b.dumpPath).catch(() => null);
  return !st?.isFile() ? "missing" : st.size !== b.manifest.sizeBytes ? "size differs" : "ok";
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" ");
}
