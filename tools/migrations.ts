/**
 * Offline migration applier, compatible with Prisma Migrate's bookkeeping.
 *
 * `prisma migrate deploy` needs Prisma's schema engine, which may be absent on an offline or
 * locked-down machine. {@link applyMigrations} applies the same `prisma/migrations/<name>/migration.sql`
 * files with plain `pg` and records each one in `_prisma_migrations` exactly the way Prisma
 * Migrate does (same DDL, same uuid ids, same sha256 checksums, same advisory lock), so a later
 * online `prisma migrate deploy` or `prisma migrate status` sees them as already applied.
 *
 * Differences from Prisma on purpose: every migration runs in ONE transaction together with its
 * `_prisma_migrations` row, so a failing migration leaves neither half-applied DDL nor a "failed"
 * row behind (Prisma would leave a failed row that blocks later deploys until
 * `prisma migrate resolve`).
 */
import { createHash, randomUUID } from "node:crypto";
import type { Dirent } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";

/** The advisory lock key Prisma Migrate takes (`SELECT pg_advisory_lock(72707369)`). */
export const PRISMA_MIGRATE_ADVISORY_LOCK = 72707369;

/** Name of Prisma Migrate's history table. */
export const PRISMA_MIGRATIONS_TABLE = "_prisma_migrations";

/** The exact DDL Prisma Migrate uses to create its history table on PostgreSQL. */
export const PRISMA_MIGRATIONS_TABLE_DDL = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`;

/** Stable codes of {@link MigrationError}. */
export type MigrationErrorCode = "MIGRATION_CHECKSUM_MISMATCH" | "MIGRATION_FAILED";

/**
 * Raised by {@link applyMigrations}.
 *
 * - `MIGRATION_CHECKSUM_MISMATCH`: a migration recorded as applied was edited afterwards.
 * - `MIGRATION_FAILED`: a migration's SQL failed (its transaction was rolled back; the message
 *   holds the migration name and the Postgres message, `cause` the original `pg` error), or the
 *   history holds a failed, unresolved attempt of it, or the migrations folder can't be read.
 */
export class MigrationError extends Error {
  override readonly name = "MigrationError";
  /** Stable error code. */
  readonly code: MigrationErrorCode;
  /** The migration (directory name) the error is about, when there is one. */
  readonly migration: string | undefined;

  constructor(code: MigrationErrorCode, message: string, options: { migration?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.migration = options.migration;
  }
}

/** One migration found on disk. */
export interface LocalMigration {
  /** Directory name, e.g. `20261121000000_init`; also the `migration_name` recorded. */
  name: string;
  /** Absolute path of its `migration.sql`. */
  file: string;
  /** The SQL script, as read from disk. */
  sql: string;
  /** sha256 hex of the script (Prisma's checksum). */
  checksum: string;
}

/** Options of {@link applyMigrations}. */
export interface ApplyMigrationsOptions {
  /** Receives one structured object per event (`migrations.lock`, `migration.applied`, …). */
  log?: (line: object) => void;
  /** How long to wait for the advisory lock before failing (default 10 000 ms, as Prisma). */
  lockTimeoutMs?: number;
}

/** What {@link applyMigrations} did: migration names in the order they were considered. */
export interface ApplyMigrationsResult {
  applied: string[];
  skipped: string[];
}

/**
 * Prisma's checksum of a migration script: lowercase hex sha256 of its bytes.
 *
 * @example migrationChecksum(await readFile(file)) // 'e3b0c442…'
 */
export function migrationChecksum(script: string | Uint8Array): string {
  return createHash("sha256").update(script).digest("hex");
}

/**
 * Whether `script` matches a recorded checksum. Like Prisma, a script whose line endings were
 * converted (LF ↔ CRLF, e.g. by git on Windows) still matches.
 */
export function scriptMatchesChecksum(script: string, checksum: string): boolean {
  const lf = script.replace(/\r\n/g, "\n");
  const crlf = lf.replace(/\n/g, "\r\n");
  return [script, lf, crlf].some((variant) => migrationChecksum(variant) === checksum);
}

/**
 * The migrations of a Prisma migrations folder: every `<dir>/<name>/migration.sql`, sorted by
 * directory name (the order Prisma applies them in). Other files (`migration_lock.toml`) and
 * directories without a `migration.sql` are ignored.
 *
 * @throws {MigrationError} `MIGRATION_FAILED` when the folder can't be read.
 */
export async function listMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  const dir = path.resolve(migrationsDir);
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (cause) {
    throw new MigrationError("MIGRATION_FAILED", `Cannot read migrations folder ${dir}: ${errorMessage(cause)}`, {
      cause,
    });
  }
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: LocalMigration[] = [];
  for (const name of names) {
    const file = path.join(dir, name, "migration.sql");
    let sql: string;
    try {
      sql = await readFile(file, "utf8");
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new MigrationError("MIGRATION_FAILED", `Cannot read ${file}: ${errorMessage(cause)}`, {
        migration: name,
        cause,
      });
    }
    out.push({ name, file, sql, checksum: migrationChecksum(sql) });
  }
  return out;
}

interface HistoryRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Apply every not-yet-applied `<migrationsDir>/<name>/migration.sql` to the database at `url`,
 * in name order, each in its own transaction together with its `_prisma_migrations` row.
 *
 * - Holds `pg_advisory_lock(72707369)` (Prisma Migrate's lock) for the whole run, so it never
 *   races another applier or `prisma migrate deploy`; waits at most `lockTimeoutMs` for it.
 * - Creates `_prisma_migrations` with Prisma's own DDL when it doesn't exist.
 * - A migration already recorded as finished (and not rolled back) is skipped when its checksum
 *   still matches, and is an error when the file changed since.
 * - Stops at the first failing migration; the ones before it stay applied.
 *
 * @param url PostgreSQL connection string; unqualified names resolve through its `search_path`.
 * @param migrationsDir A Prisma migrations folder, e.g. `prisma/migrations`.
 * @param opts `log` receives structured events; `lockTimeoutMs` bounds the wait for the lock.
 * @returns The names applied now and the names skipped as already applied.
 * @throws {MigrationError} `MIGRATION_CHECKSUM_MISMATCH` or `MIGRATION_FAILED` (see the class).
 *
 * @example
 * const { applied } = await applyMigrations(process.env.DATABASE_URL!, "prisma/migrations");
 */
export async function applyMigrations(
  url: string,
  migrationsDir: string,
  opts: ApplyMigrationsOptions = {},
): Promise<ApplyMigrationsResult> {
  const log = opts.log ?? (() => {});
  const migrations = await listMigrations(migrationsDir);
  const result: ApplyMigrationsResult = { applied: [], skipped: [] };

  const client = new pg.Client({ connectionString: url, application_name: "atomic-etl-migrate" });
  // A broken connection surfaces as a failed query; don't let the 'error' event crash the process.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (cause) {
    throw new MigrationError("MIGRATION_FAILED", `Cannot connect to apply migrations: ${errorMessage(cause)}`, {
      cause,
    });
  }

  let locked = false;
  try {
    log({ event: "migrations.lock", lock: PRISMA_MIGRATE_ADVISORY_LOCK });
    await acquireLock(client, opts.lockTimeoutMs ?? 10_000);
    locked = true;

    const exists = await client.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [PRISMA_MIGRATIONS_TABLE]);
    if (exists.rows[0]?.t == null) {
      await client.query(PRISMA_MIGRATIONS_TABLE_DDL);
      log({ event: "migrations.table_created", table: PRISMA_MIGRATIONS_TABLE });
    }

    const history = await client.query<HistoryRow>(
      `SELECT id, checksum, migration_name, finished_at, rolled_back_at
         FROM _prisma_migrations ORDER BY started_at, migration_name`,
    );

    for (const migration of migrations) {
      const rows = history.rows.filter((r) => r.migration_name === migration.name && r.rolled_back_at === null);
      const finished = rows.find((r) => r.finished_at !== null);
      if (finished) {
        if (!scriptMatchesChecksum(migration.sql, finished.checksum)) {
          throw new MigrationError(
            "MIGRATION_CHECKSUM_MISMATCH",
            `Migration ${migration.name} was modified after it was applied: ` +
              `recorded checksum ${finished.checksum}, file checksum ${migration.checksum} (${migration.file}).`,
            { migration: migration.name },
          );
        }
        result.skipped.push(migration.name);
        log({ event: "migration.skipped", migration: migration.name, reason: "already applied" });
        continue;
      }
      if (rows.length > 0) {
        throw new MigrationError(
          "MIGRATION_FAILED",
          `Migration ${migration.name} has a failed attempt recorded in _prisma_migrations; ` +
            `resolve it first (prisma migrate resolve --rolled-back ${migration.name}).`,
          { migration: migration.name },
        );
      }

      const started = Date.now();
      log({ event: "migration.start", migration: migration.name, checksum: migration.checksum });
      try {
        await client.query("BEGIN");
        const id = randomUUID();
        await client.query(
          `INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name)
           VALUES ($1, $2, now(), $3)`,
          [id, migration.checksum, migration.name],
        );
        // Simple-query protocol: the whole multi-statement script in one round trip.
        await client.query(migration.sql);
        await client.query(
          `UPDATE _prisma_migrations
              SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp()
            WHERE id = $1`,
          [id],
        );
        await client.query("COMMIT");
      } catch (cause) {
        await client.query("ROLLBACK").catch(() => {});
        log({ event: "migration.failed", migration: migration.name, error: errorMessage(cause) });
        throw new MigrationError("MIGRATION_FAILED", `Migration ${migration.name} failed: ${errorMessage(cause)}`, {
          migration: migration.name,
          cause,
        });
      }
      result.applied.push(migration.name);
      log({ event: "migration.applied", migration: migration.name, ms: Date.now() - started });
    }
    return result;
  } catch (error) {
    if (error instanceof MigrationError) throw error;
    throw new MigrationError("MIGRATION_FAILED", `Applying migrations failed: ${errorMessage(error)}`, {
      cause: error,
    });
  } finally {
    if (locked) {
      await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATE_ADVISORY_LOCK]).catch(() => {});
    }
    await client.end().catch(() => {});
  }
}

/** Prisma's advisory lock, bounded by `lock_timeout` (which covers advisory lock waits too). */
async function acquireLock(client: pg.Client, timeoutMs: number): Promise<void> {
  await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_ADVISORY_LOCK]);
  } catch (cause) {
    if ((cause as { code?: string }).code === "55P03") {
      throw new MigrationError(
        "MIGRATION_FAILED",
        `Timed out after ${timeoutMs} ms waiting for the migration advisory lock ` +
          `(SELECT pg_advisory_lock(${PRISMA_MIGRATE_ADVISORY_LOCK})): another migration is running.`,
        { cause },
      );
    }
    throw cause;
  } finally {
    await client.query("RESET lock_timeout").catch(() => {});
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
