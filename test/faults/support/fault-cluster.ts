/**
 * A private PostgreSQL cluster for tests that kill, crash or cut things: never the shared
 * test server. synchronous_commit stays on, so a crash never loses an acknowledged COMMIT.
 *
 * @example
 * const fc = await startFaultCluster(); … await fc.stop();
 */
import pg from "pg";
import { applyMigrations } from "../../../tools/migrations.js";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../../../tools/harness/throwaway-postgres.js";
import { MIGRATIONS_DIR } from "./paths.js";
import { FAULT_CATEGORIES_DDL } from "./release-fixture.js";

export interface FaultCluster {
  cluster: ThrowawayPostgres;
  /** URL of the migrated `faults` database. */
  url: string;
  stop(): Promise<void>;
}

/** Starts a cluster, creates database `faults` with the example schema plus `fault_categories`. */
export async function startFaultCluster(opts: { password?: string } = {}): Promise<FaultCluster> {
  const cluster = await startThrowawayPostgres({ synchronousCommit: true, password: opts.password });
  try {
    const url = await cluster.createDatabase("faults");
    await applyMigrations(url, MIGRATIONS_DIR);
    await sql(url, FAULT_CATEGORIES_DDL);
    return { cluster, url, stop: () => cluster.stop() };
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

/** One statement on a short-lived connection. */
export async function sql<T = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, application_name: "fault-test" });
  c.on("error", () => undefined);
  await c.connect();
  try {
    return (await c.query(text, values)).rows as T[];
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** What a dead or finished run must not leave behind. */
export interface Residue {
  /** Relations named like a staging table, in any schema. */
  staging: string[];
  /** Advisory locks held or awaited by anyone. */
  advisoryLocks: number;
  /** Sessions idle in a transaction (other than ours). */
  idleInTransaction: number;
  /** Sessions of atomic-etl (application_name atomic-etl…, pg_dump included). */
  etlSessions: string[];
}

export async function readResidue(url: string): Promise<Residue> {
  const [staging, locks, idle, sessions] = await Promise.all([
    sql<{ n: string }>(
      url,
      "SELECT n.nspname || '.' || c.relname AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname LIKE 'atomic\\_etl\\_stage\\_%'",
    ),
    sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'"),
    sql<{ n: number }>(
      url,
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND application_name <> 'fault-test'",
    ),
    sql<{ a: string }>(
      url,
      "SELECT application_name || ' (' || coalesce(state, '?') || ')' AS a FROM pg_stat_activity WHERE application_name LIKE 'atomic-etl%'",
    ),
  ]);
  return {
    staging: staging.map((r) => r.n),
    advisoryLocks: locks[0]?.n ?? 0,
    idleInTransaction: idle[0]?.n ?? 0,
    etlSessions: sessions.map((r) => r.a),
  };
}

export const isClean = (r: Residue) =>
  r.staging.length === 0 && r.advisoryLocks === 0 && r.idleInTransaction === 0 && r.etlSessions.length === 0;

/**
 * Polls until nothing is left behind. The server notices a dead client when it next reads
 * its socket, and an orphaned pg_dump finishes its dump first, hence the wait.
 */
export async function waitForNoResidue(url: string, timeoutMs = 30_000): Promise<Residue> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await readResidue(url);
    if (isClean(r) || Date.now() > deadline) return r;
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
