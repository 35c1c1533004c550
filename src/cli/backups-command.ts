import { stat } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { type BackupEntry, listBackups } from "../backup/retention.js";
import { isGoodBackup } from "../backup/verify.js";
import { pickEnvironmentName } from "../config/environments.js";
import { loadConfig, resolveEnvironment } from "../config/load.js";
import type { CliContext } from "./context.js";

/** One line of `atomic-etl backups`. */
export interface BackupRow {
  id: string;
  createdAt: string;
  release: string | null;
  tables: string[];
  rows: number;
  sizeBytes: number;
  /** `ok`; `missing`/`size differs` (cheap checks); with --verify, `corrupt` when sha256 or pg_restore disagree. */
  state: "ok" | "missing" | "size differs" | "corrupt";
  path: string;
}

async function rowOf(b: BackupEntry, deep: boolean): Promise<BackupRow> {
  const m = b.manifest;
  const st = await stat(b.dumpPath).catch(() => null);
  const state: BackupRow["state"] = !st
    ? "missing"
    : st.size !== m.sizeBytes
      ? "size differs"
      : deep && !(await isGoodBackup(b))
        ? "corrupt"
        : "ok";
  return {
    id: m.id,
    createdAt: m.createdAt,
    release: m.release,
    tables: Object.keys(m.tables),
    rows: Object.values(m.tables).reduce((a, t) => a + t.rows, 0),
    sizeBytes: m.sizeBytes,
    state,
    path: b.dumpPath,
  };
}

const size = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);

/** `atomic-etl backups [--env] [--json] [--verify]`: the environment's backups, newest first. */
export function registerBackups(program: Command, ctx: CliContext): void {
  program
    .command("backups")
    .description("list the backups of an environment, newest first")
    .option("-c, --config <file>", "config file", "etl/etl.config.ts")
    .option("-e, --env <name>", "local | staging | production (default: ETL_ENV, then local)")
    .option("--verify", "also check every dump's sha256 and table of contents")
    .option("--json", "print JSON on stdout")
    .action(async (o: { config: string; env?: string; verify?: boolean; json?: boolean }) => {
      const config = await loadConfig(o.config);
      const { name: env } = resolveEnvironment(config, pickEnvironmentName(o.env));
      const entries = (await listBackups(path.resolve(config.root, config.backupDir))).filter((b) => b.manifest.environment === env);
      const rows: BackupRow[] = [];
      for (const b of entries) rows.push(await rowOf(b, o.verify === true));
      if (o.json) return ctx.out(JSON.stringify(rows, null, 2));
      if (!rows.length) return ctx.out(`no backups for ${env}`);
      const w = Math.max(...rows.map((r) => r.id.length));
      ctx.out(
        `${"id".padEnd(w)}  ${"created at".padEnd(24)}  ${"release".padEnd(20)}  tables  ${"rows".padStart(10)}  ${"size".padStart(10)}  state`,
      );
      for (const r of rows) {
        ctx.out(
          `${r.id.padEnd(w)}  ${r.createdAt.padEnd(24)}  ${(r.release ?? "-").padEnd(20)}  ${String(r.tables.length).padStart(6)}  ${String(r.rows).padStart(10)}  ${size(r.sizeBytes).padStart(10)}  ${r.state}`,
        );
      }
    });
}
