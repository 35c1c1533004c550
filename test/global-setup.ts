/**
 * vitest globalSetup: ONE PostgreSQL server per test run.
 *
 * - TEST_DATABASE_URL set: that server is used (the URL must be a superuser / CREATEDB role).
 * - otherwise a throwaway cluster is started (and removed at teardown).
 *
 * A template database `atomic_template` with all migrations applied is built once, so
 * freshDatabase() is a cheap CREATE DATABASE … TEMPLATE atomic_template.
 * Test files read the connection info through test/support/postgres.ts (inject('pg')).
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { findPgBinaries, type PgBinaries } from "../tools/harness/pg-binaries.js";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../tools/harness/throwaway-postgres.js";
import { quoteIdent } from "../src/sql/quote.js";
// type-only: support/postgres.ts imports `vitest`, which must not be loaded in the main process
import type { PgTestContext } from "./support/postgres.js";

// keep in sync with test/support/postgres.ts
const TEMPLATE_DB = "atomic_template";
const MIGRATIONS_DIR = path.join(fileURLToPath(new URL("..", import.meta.url)), "prisma", "migrations");

function databaseUrl(baseUrl: string, dbName: string): string {
  const u = new URL(baseUrl);
  u.pathname = `/${encodeURIComponent(dbName)}`;
  return u.toString();
}

async function runSql(url: string, ...statements: string[]): Promise<void> {
  await queryRows(url, statements);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs the statement(s) on one short-lived connection; returns the rows of the last one. */
async function queryRows<T>(url: string, sql: string | string[], params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    let rows: T[] = [];
    for (const stmt of Array.isArray(sql) ? sql : [sql]) rows = (await client.query(stmt, params)).rows as T[];
    return rows;
  } finally {
    await client.end().catch(() => {});
  }
}

async function dropTemplate(adminUrl: string): Promise<void> {
  const exists = await queryRows(adminUrl, "SELECT 1 FROM pg_database WHERE datname = $1", [TEMPLATE_DB]);
  if (exists.length === 0) return;
  await runSql(
    adminUrl,
    `ALTER DATABASE ${quoteIdent(TEMPLATE_DB)} WITH IS_TEMPLATE false ALLOW_CONNECTIONS true`,
    `DROP DATABASE IF EXISTS ${quoteIdent(TEMPLATE_DB)} WITH (FORCE)`,
  );
}

/** (Re)create atomic_template with all migrations applied; it then refuses connections so it can always be copied. */
async function buildTemplate(adminUrl: string): Promise<void> {
  await dropTemplate(adminUrl);
  await runSql(adminUrl, `CREATE DATABASE ${quoteIdent(TEMPLATE_DB)} TEMPLATE template0`);
  const { applyMigrations } = await import("../tools/migrations.js");
  await applyMigrations(databaseUrl(adminUrl, TEMPLATE_DB), MIGRATIONS_DIR);
  await runSql(
    adminUrl,
    `ALTER DATABASE ${quoteIdent(TEMPLATE_DB)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`,
    // a pool left open by the migration code would make CREATE DATABASE … TEMPLATE fail
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${TEMPLATE_DB}' AND pid <> pg_backend_pid()`,
  );
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL?.trim() || undefined;
  let cluster: ThrowawayPostgres | undefined;
  let adminUrl: string;
  let binaries: PgBinaries | null;

  if (external) {
    adminUrl = external;
    binaries = await findPgBinaries().catch(() => null);
  } else {
    cluster = await startThrowawayPostgres({
      // shared cluster: nobody crashes it, so trade crash-durability of commits for speed
      synchronousCommit: false,
      log: (m) => {
        if (process.env.DEBUG_PG_HARNESS) console.error(`[pg-harness] ${m}`);
      },
    });
    adminUrl = cluster.url;
    binaries = cluster.binaries;
  }

  let templateError: string | null = null;
  try {
    await buildTemplate(adminUrl);
  } catch (err) {
    templateError = errorMessage(err);
    console.error(
      `[global-setup] could not build template database ${TEMPLATE_DB} from ${MIGRATIONS_DIR}: ${templateError}\n` +
        "  freshDatabase({ migrate: true }) will fail in every test that uses it.",
    );
  }

  const ctx: PgTestContext = {
    adminUrl,
    external: Boolean(external),
    templateDb: templateError ? null : TEMPLATE_DB,
    templateError,
    binaries,
    dbPrefix: `t_${Date.now().toString(36)}_${randomBytes(2).toString("hex")}_`,
  };
  project.provide("pg", ctx);

  return async () => {
    if (cluster) {
      await cluster.stop();
      return;
    }
    // external server: remove what this run created
    try {
      const rows = await queryRows<{ datname: string }>(adminUrl, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [
        ctx.dbPrefix,
      ]);
      for (const { datname } of rows) {
        await runSql(adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
      }
      await dropTemplate(adminUrl);
    } catch (err) {
      console.error(`[global-setup] cleanup on ${redactUrl(adminUrl)} failed: ${errorMessage(err)}`);
    }
  };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(TEST_DATABASE_URL)";
  }
}
