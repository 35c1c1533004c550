import { lockKey } from "../db/advisory-lock.js";
import { pgErrorInfo } from "../db/pg-errors.js";
import { execute, query, type TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import {
  begin,
  commit,
  createLedgerSchema,
  ledgerExists,
  ledgerSchemaExists,
  ledgerUpgradeLock,
  ledgerV1,
  ledgerV2,
  ledgerVersion,
  markLedgerVersion,
  rollback,
} from "../sql/ledger.js";
import type { Statement } from "../sql/statement.js";

/** One step of the ledger's schema: idempotent DDL (IF NOT EXISTS), applied once, in order. */
export interface LedgerMigration {
  version: number;
  statements: (schema: string) => Statement[];
}

/**
 * Every version of the ledger's schema. A newer atomic-etl appends versions and upgrades an
 * older ledger in place; versions only add (columns, indexes), so an older tool keeps
 * writing rows into a newer ledger.
 */
export const LEDGER_MIGRATIONS: readonly LedgerMigration[] = [
  { version: 1, statements: ledgerV1 },
  { version: 2, statements: ledgerV2 },
];

/** Its own advisory-lock class, so upgrades serialise across runs on different target schemas. */
const LEDGER_LOCK_CLASS = 0x4c454447; // "LEDG"

export interface LedgerState {
  schema: string;
  version: number;
  /** Versions this call applied (empty when the ledger was current). */
  applied: number[];
}

/** Postgres refusals that mean "this role cannot keep a ledger here". */
const UNAVAILABLE = new Set(["42501", "25006", "3F000", "42P06"]);

/**
 * Creates or upgrades the ledger in `schema` on `db` (a plain session, not inside another
 * transaction). The caller holds the run lock; the DDL runs in one short transaction under
 * a transaction-level advisory lock of its own, so two tools never upgrade at once. A
 * current ledger costs one catalog read and no lock.
 *
 * @example await ensureLedger(lock.session, "atomic_etl", "0.1.0")
 */
export async function ensureLedger(
  db: TxLike,
  schema: string,
  toolVersion: string,
  migrations: readonly LedgerMigration[] = LEDGER_MIGRATIONS,
): Promise<LedgerState> {
  const latest = migrations.at(-1)?.version ?? 0;
  try {
    const current = await readVersion(db, schema);
    if (current >= latest) return { schema, version: current, applied: [] };
    await execute(db, begin());
    try {
      await query(db, ledgerUpgradeLock(LEDGER_LOCK_CLASS, lockKey(schema)));
      // another run may have upgraded it while this one waited for the lock
      const now = await readVersion(db, schema);
      const [exists] = await query<{ ok: boolean }>(db, ledgerSchemaExists(schema));
      if (!exists?.ok) await execute(db, createLedgerSchema(schema));
      const applied: number[] = [];
      for (const m of migrations.filter((x) => x.version > now)) {
        for (const s of m.statements(schema)) await execute(db, s);
        await execute(db, markLedgerVersion(schema, m.version, toolVersion));
        applied.push(m.version);
      }
      await execute(db, commit());
      return { schema, version: Math.max(now, latest), applied };
    } catch (e) {
      await execute(db, rollback()).catch(() => undefined);
      throw e;
    }
  } catch (e) {
    throw unavailable(e, schema);
  }
}

/** The ledger's version, 0 when there is none (read-only: `history` and `status` never create it). */
export async function readVersion(db: TxLike, schema: string): Promise<number> {
  const [exists] = await query<{ ok: boolean }>(db, ledgerExists(schema));
  if (!exists?.ok) return 0;
  const [r] = await query<{ version: number }>(db, ledgerVersion(schema));
  return Number(r?.version ?? 0);
}

function unavailable(e: unknown, schema: string): unknown {
  const info = pgErrorInfo(e);
  if (!info.sqlstate || !UNAVAILABLE.has(info.sqlstate)) return e;
  return new EtlError("LEDGER_UNAVAILABLE", `cannot create or upgrade the ledger in schema ${schema}: ${info.message}`, {
    step: "preflight",
    cause: e,
    meta: { sqlstate: info.sqlstate, ledgerSchema: schema },
    next: `let this role create it (GRANT CREATE ON DATABASE … TO …), or have an owner run CREATE SCHEMA ${schema} AUTHORIZATION <this role>, or set ledgerSchema to a schema this role owns`,
  });
}
