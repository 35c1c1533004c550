/**
 * Per-test-file access to the PostgreSQL server started by test/global-setup.ts.
 *
 *   const db = await freshDatabase();            // new database with the example schema
 *   const raw = await freshDatabase({ migrate: false }); // empty database
 *   await db.drop();
 *
 * A test file's own database (and workspace) comes from the fixtures useTestDatabase() /
 * useTestProject() in test/fixtures/core/kit.ts, which call this per test or per suite and drop
 * after; call it directly only for a database a test makes and drops itself, mid-test.
 * Tests that need to crash/restart a server start their own with startThrowawayPostgres().
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { inject } from "vitest";
import { findPgBinaries, type PgBinaries } from "../../tools/harness/pg-binaries.js";
import { quoteIdent } from "../../src/sql/quote.js";

/** What globalSetup hands to test files (via `project.provide('pg', …)`). */
export interface PgTestContext {
  /** Superuser URL of the shared server (its `postgres` database, or TEST_DATABASE_URL). */
  adminUrl: string;
  /** true when TEST_DATABASE_URL was used instead of a throwaway cluster. */
  external: boolean;
  /** Database with all migrations applied, used as CREATE DATABASE … TEMPLATE; null if building it failed. */
  templateDb: string | null;
  /** Why the template could not be built (null when it was). */
  templateError: string | null;
  /** Binaries of the throwaway cluster (or found locally for an external server; null if none). */
  binaries: PgBinaries | null;
  /** Every database made by freshDatabase() in this run starts with this prefix. */
  dbPrefix: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    pg: PgTestContext;
  }
}

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const MIGRATIONS_DIR = path.join(REPO_ROOT, "prisma", "migrations");
export const TEMPLATE_DB = "atomic_template";

export interface FreshDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Connection info provided by globalSetup. */
export function pgTestContext(): PgTestContext {
  const ctx = inject("pg");
  if (!ctx) throw new Error("no 'pg' context: is test/global-setup.ts configured as vitest globalSetup?");
  return ctx;
}

/** Superuser URL of the shared test server. */
export function adminUrl(): string {
  return pgTestContext().adminUrl;
}

/** PostgreSQL binaries matching the shared server when possible (pg_dump, psql, …). */
export async function pgBinaries(): Promise<PgBinaries> {
  return pgTestContext().binaries ?? (await findPgBinaries());
}

/** `baseUrl` pointed at database `dbName`. */
export function databaseUrl(baseUrl: string, dbName: string): string {
  const u = new URL(baseUrl);
  u.pathname = `/${encodeURIComponent(dbName)}`;
  return u.toString();
}

/** Run SQL statements, in order, on `url` with a short-lived connection. */
export async function runSql(url: string, ...statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

let counter = 0;

/** A new, uniquely named database; with the example schema unless `migrate: false`. */
export async function freshDatabase(opts: { migrate?: boolean } = {}): Promise<FreshDatabase> {
  const ctx = pgTestContext();
  const migrate = opts.migrate ?? true;
  if (migrate && !ctx.templateDb) {
    throw new Error(
      `freshDatabase({ migrate: true }): the migrated template database could not be built in globalSetup: ${ctx.templateError ?? "unknown error"}`,
    );
  }
  counter += 1;
  const name = `${ctx.dbPrefix}${process.pid}_${counter}_${randomBytes(3).toString("hex")}`;
  const template = migrate ? (ctx.templateDb as string) : "template0";
  await runSql(ctx.adminUrl, `CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
  let dropped = false;
  return {
    name,
    url: databaseUrl(ctx.adminUrl, name),
    async drop() {
      if (dropped) return;
      dropped = true;
      await runSql(ctx.adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    },
  };
}
