import path from "node:path";
import type { Command } from "commander";
import { type BackupScope, databaseOf, inScope, outcomeOf } from "../backup/backup-scope.js";
import type { RunOutcome } from "../backup/manifest.js";
import { sweepOrphans } from "../backup/orphans.js";
import { type BackupEntry, listBackups } from "../backup/retention.js";
import { databaseUrlFor, identityOf } from "../backup/target-database.js";
import { dumpPresent, isGoodBackup } from "../backup/verify.js";
import { pickEnvironmentName } from "../config/environments.js";
import { loadConfig, resolveEnvironment } from "../config/load.js";
import type { CliContext } from "./context.js";

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

const size = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);

interface BackupsOptions {
  config: string;
  env?: string;
  verify?: boolean;
  json?: boolean;
  all?: boolean;
}

/**
 * `atomic-etl backups [--env] [--all] [--json] [--verify]`: the backups of this database (the
 * one DATABASE_URL reaches) and schema in the environment, newest first; `--all` lists every
 * database's, with a database column, and needs no connection. Sweeps what interrupted backups
 * left first (never files a live process is writing), and logs what it removed.
 */
export function registerBackups(program: Command, ctx: CliContext): void {
  program
    .command("backups")
    .description("list this database's backups in an environment, newest first (--all: every database's)")
    .option("-c, --config <file>", "config file", "etl/etl.config.ts")
    .option("-e, --env <name>", "local | staging | production (default: ETL_ENV, then local)")
    .option("--all", "list the backups of every database (and of unknown identity), with a database column")
    .option("--verify", "also check every dump's sha256 and table of contents")
    .option("--json", "print JSON on stdout")
    .action(async (o: BackupsOptions) => {
      const config = await loadConfig(o.config);
      const { name: env } = resolveEnvironment(config, pickEnvironmentName(o.env));
      const dir = path.resolve(config.root, config.backupDir);
      await sweepOrphans(dir, { log: ctx.logger });
      const entries = (await listBackups(dir)).filter((b) => b.manifest.environment === env);
      let scope: BackupScope | null = null;
      if (!o.all) {
        const url = databaseUrlFor(config, env, undefined, ", or pass --all to list every database's backups without connecting");
        scope = { environment: env, identity: await identityOf(url), schema: config.schema };
      }
      const shown = scope ? entries.filter((b) => inScope(b.manifest, scope)) : entries;
      const rows: BackupRow[] = [];
      for (const b of shown) rows.push(await rowOf(b, o.verify === true));
      if (o.json) return ctx.out(JSON.stringify(rows, null, 2));
      const hidden = entries.length - shown.length;
      const note = hidden
        ? `(${hidden} backup(s) of other databases, schemas or of unknown identity in ${env} not shown: --all lists them)`
        : "";
      if (!rows.length) return ctx.out([`no backups for ${env}${scope ? " of this database" : ""}`, note].filter(Boolean).join("\n"));
      printTable(ctx, rows, o.all === true);
      if (note) ctx.out(note);
    });
}

function printTable(ctx: CliContext, rows: readonly BackupRow[], withDatabase: boolean): void {
  const w = Math.max(...rows.map((r) => r.id.length));
  const db = (s: string) => (withDatabase ? `  ${s}` : "");
  ctx.out(
    `${"id".padEnd(w)}  ${"created at".padEnd(24)}  ${"release".padEnd(20)}  ${"outcome".padEnd(11)}  tables  ${"rows".padStart(10)}  ${"size".padStart(10)}  state${db("database")}`,
  );
  for (const r of rows) {
    ctx.out(
      `${r.id.padEnd(w)}  ${r.createdAt.padEnd(24)}  ${(r.release ?? "-").padEnd(20)}  ${r.outcome.padEnd(11)}  ${String(r.tables.length).padStart(6)}  ${String(r.rows).padStart(10)}  ${size(r.sizeBytes).padStart(10)}  ${r.state.padEnd(12)}${db(r.database)}`,
    );
  }
}
