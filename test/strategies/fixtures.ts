/**
 * Helpers of the strategy tests: readers on their own connections, one-statement snapshots
 * (one MVCC snapshot across every table), and the leftovers check.
 *
 * @example
 * const reader = await openReader(db.url, { statementTimeoutMs: 1000 });
 * expect(await readAll(reader, ALL_TABLES)).toEqual(old);
 */
import pg from "pg";
import { quoteIdent } from "../../src/sql/quote.js";
import { sql } from "../fixtures/core/kit.js";

export {
  ALL_TABLES,
  failure,
  nextRelease,
  seed,
  snapshot,
  sql,
  STANDARD_TABLES,
  useTestProject,
  workspace,
  type Workspace,
} from "../fixtures/core/kit.js";

/** A plain `pg` connection playing an application reader. */
export async function openReader(url: string, opts: { statementTimeoutMs?: number; name?: string } = {}): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, application_name: opts.name ?? "test-reader" });
  c.on("error", () => undefined);
  await c.connect();
  if (opts.statementTimeoutMs !== undefined) await c.query(`SET statement_timeout = ${Math.trunc(opts.statementTimeoutMs)}`);
  return c;
}

/**
 * Every row of `tables` as Postgres prints it, sorted, read by ONE statement: one snapshot,
 * so a commit can never fall between two tables.
 */
export async function readAll(c: pg.Client, tables: readonly string[]): Promise<Record<string, string[]>> {
  const cols = tables.map((t, i) => `(SELECT COALESCE(array_agg(x::text ORDER BY x::text), '{}') FROM ${quoteIdent(t)} x) AS c${i}`);
  const r = await c.query<Record<string, string[]>>(`SELECT ${cols.join(", ")}`);
  const row = r.rows[0] as Record<string, string[]>;
  return Object.fromEntries(tables.map((t, i) => [t, row[`c${i}`] as string[]]));
}

/** Relations a strategy created (staging, swap) that are still there, in any schema (TEMP included). */
export async function workTables(url: string): Promise<string[]> {
  const rows = await sql<{ name: string }>(
    url,
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname LIKE 'atomic\\_etl\\_%' ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

/** Environment settings that keep the final phase's lock budget short. */
export const QUICK_LOCKS = { finalLockTimeoutMs: 200, finalLockRetries: 2, finalLockBackoffMs: 50 };
