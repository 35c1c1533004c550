import pg from "pg";
import { pgTx } from "../db/pg-client.js";
import { connectError, pgErrorInfo } from "../db/pg-errors.js";
import { query, type TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { redactUrl } from "../reporting/redact.js";
import { readCatalog } from "../db/catalog.js";
import {
  beginSnapshot,
  exportSnapshot,
  foreignLeaves,
  importSnapshot,
  listTables,
  sessionSettings,
  snapshotInfo,
  unreadableTables,
} from "../sql/source-snapshot.js";
import type { SourceTable } from "./plan-types.js";

/** What the manifest records about the one snapshot every row was read in. */
export interface SnapshotInfo {
  database: string;
  serverVersion: string;
  /** The server was a hot standby (in recovery). */
  inRecovery: boolean;
  /** WAL position: `pg_current_wal_lsn()` on a primary, the replay LSN on a standby. */
  lsn: string | null;
  /** `pg_current_snapshot()`: xmin:xmax:xip of the snapshot. */
  txidSnapshot: string;
  /** `pg_export_snapshot()` id, when parallel workers shared it; null with one connection. */
  id: string | null;
  time: string;
}

/** A source connection holding the run's REPEATABLE READ READ ONLY transaction. */
export interface SourceSession {
  client: pg.Client;
  tx: TxLike;
  info: SnapshotInfo;
  close(): Promise<void>;
}

/** Connects, mapping a failure to SOURCE_UNREACHABLE (the message never carries the URL). */
async function connectSource(url: string, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return client;
  } catch (e) {
    await client.end().catch(() => undefined);
    const info = pgErrorInfo(e);
    // a wrong password or database name is not a network problem: said as import says it
    const known = connectError(e, "the source database", { step: "snapshot", meta: { sqlstate: info.sqlstate } });
    if (known && known.code !== "CONNECTION_FAILED") throw known;
    throw new EtlError("SOURCE_UNREACHABLE", `cannot connect to the source database: ${redactUrl(info.message)}`, {
      step: "snapshot",
      cause: e,
      meta: { sqlstate: info.sqlstate },
      next: "check that the server is running and the host and port of the source URL's variable; nothing was written",
    });
  }
}

async function begin(client: pg.Client, snapshotId?: string): Promise<void> {
  for (const s of [beginSnapshot(), ...(snapshotId ? [importSnapshot(snapshotId)] : []), sessionSettings()]) {
    await client.query(s.text, s.values);
  }
}

/**
 * Opens the run's snapshot: one `REPEATABLE READ READ ONLY` transaction. With `share`, the
 * snapshot is exported so that parallel workers read exactly the same rows.
 */
export async function openSource(url: string, opts: { share: boolean; applicationName?: string }): Promise<SourceSession> {
  const client = await connectSource(url, opts.applicationName ?? "atomic-etl:sample");
  try {
    await begin(client);
    const tx = pgTx(client);
    const [row] = await query<{
      database: string;
      in_recovery: boolean;
      lsn: string | null;
      txid_snapshot: string;
      time: Date;
      server_version: string;
    }>(tx, snapshotInfo());
    let id: string | null = null;
    if (opts.share) id = (await query<{ id: string }>(tx, exportSnapshot()))[0]?.id ?? null;
    const info: SnapshotInfo = {
      database: row?.database ?? "",
      serverVersion: row?.server_version ?? "",
      inRecovery: row?.in_recovery ?? false,
      lsn: row?.lsn ?? null,
      txidSnapshot: row?.txid_snapshot ?? "",
      id,
      time: (row?.time ?? new Date()).toISOString(),
    };
    let closed = false;
    return {
      client,
      tx,
      info,
      // idempotent: the run closes it before the rename, and again on every way out
      close: async () => {
        if (closed) return;
        closed = true;
        await client.query("ROLLBACK").catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
}

/** A parallel worker: its own connection, in the exported snapshot of the run. */
async function openWorker(url: string, snapshotId: string, n: number): Promise<pg.Client> {
  const client = await connectSource(url, `atomic-etl:sample:worker${n}`);
  try {
    await begin(client, snapshotId);
    return client;
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
}

/**
 * Opens `workers - 1` more connections in the run's exported snapshot (none when the server
 * refused to export it); `close` rolls them back and ends them.
 */
export async function openWorkers(
  url: string,
  snapshotId: string | null,
  workers: number,
): Promise<{ extra: pg.Client[]; close: () => Promise<void> }> {
  const extra: pg.Client[] = [];
  const close = async () => {
    for (const c of extra.splice(0)) {
      await c.query("ROLLBACK").catch(() => undefined);
      await c.end().catch(() => undefined);
    }
  };
  try {
    if (snapshotId) for (let i = 1; i < workers; i++) extra.push(await openWorker(url, snapshotId, i));
  } catch (e) {
    await close();
    throw e;
  }
  return { extra, close };
}

/** Tables (with columns, keys and FKs) of the schema, read in the snapshot. */
export async function readSourceCatalog(tx: TxLike, schema: string): Promise<Map<string, SourceTable>> {
  const listed = await query<{ name: string; partitioned: boolean }>(tx, listTables(schema));
  if (listed.length === 0) return new Map();
  const catalog = await readCatalog(
    tx,
    schema,
    listed.map((t) => t.name),
  );
  const parted = listed.filter((t) => t.partitioned).map((t) => t.name);
  const foreign = new Set(parted.length ? (await query<{ name: string }>(tx, foreignLeaves(schema, parted))).map((r) => r.name) : []);
  return new Map(
    listed.map((t) => [t.name, { ...catalog.get(t.name)!, partitioned: t.partitioned, foreignLeaves: foreign.has(t.name) } as SourceTable]),
  );
}

/** Refuses, naming them, the tables the role cannot SELECT: before a single row is read. */
export async function assertReadable(tx: TxLike, schema: string, tables: readonly string[]): Promise<void> {
  const denied = (await query<{ name: string }>(tx, unreadableTables(schema, tables))).map((r) => r.name);
  if (denied.length) {
    throw new EtlError("SOURCE_PERMISSION_DENIED", `the source role cannot SELECT from ${denied.join(", ")}`, {
      step: "preflight",
      table: denied[0],
      meta: { tables: denied },
      next: `GRANT SELECT ON ${denied.join(", ")} TO <role>, or leave them out: a sample reads every table of the schema unless its config lists tables (samples.<name>.tables); nothing was written`,
    });
  }
}
