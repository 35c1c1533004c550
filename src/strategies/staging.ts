import { createHash } from "node:crypto";
import { pgErrorInfo } from "../db/pg-errors.js";
import { execute } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import type { QualifiedName } from "../sql/quote.js";
import type { ColumnInfo } from "../sql/catalog.js";
import { createStaging, dropNotNull } from "../sql/ddl.js";
import { relaxStaging } from "../sql/merge.js";
import { inSavepoint } from "../db/savepoint.js";
import { infosOf, type StrategyContext } from "./strategy.js";

/** Every relation a strategy creates starts with this; none outlives its transaction. */
export const WORK_TABLE_PREFIX = "atomic_etl_";

const MAX_NAME_BYTES = 63;

/**
 * `<prefix><table>`, shortened with a hash of the table name when it would pass Postgres'
 * 63-byte identifier limit (so two long names never meet in one truncated name).
 *
 * @example boundedName("atomic_etl_stage_", "players") // => "atomic_etl_stage_players"
 */
export function boundedName(prefix: string, table: string): string {
  const full = `${prefix}${table}`;
  if (Buffer.byteLength(full) <= MAX_NAME_BYTES) return full;
  const hash = createHash("sha256").update(table).digest("hex").slice(0, 8);
  const chars = [...table];
  while (Buffer.byteLength(`${prefix}${chars.join("")}_${hash}`) > MAX_NAME_BYTES) chars.pop();
  return `${prefix}${chars.join("")}_${hash}`;
}

/** Name of the TEMP staging table of `table`. */
export const stagingName = (table: string) => boundedName(`${WORK_TABLE_PREFIX}stage_`, table);

const SAVEPOINT = "atomic_etl_staging";

/**
 * A column whose DEFAULT draws from a sequence (serial, or nextval without OWNED BY). A plan
 * relaxes it on staging: nextval is not transactional, so a plan's staging must never call it.
 */
export const drawsFromSequence = (c: ColumnInfo) => c.sequence !== null && !c.isIdentity;

/** Postgres refusals that mean "no staging here": no TEMP privilege (42501), out of space or memory (class 53). */
const isStagingUnavailable = (sqlstate: string | undefined) => sqlstate === "42501" || sqlstate?.startsWith("53") === true;

/**
 * Creates one TEMP staging table per target (ON COMMIT DROP), inside a SAVEPOINT so that a
 * refusal leaves the transaction usable. When Postgres refuses (no TEMP privilege, out of
 * space) it follows `settings.fallback`: `direct` warns and returns null (the caller loads
 * `direct`), `fail` throws STAGING_UNAVAILABLE. `canFallBack: false` always throws.
 */
export async function createStagingTables(
  ctx: StrategyContext,
  strategy: string,
  canFallBack = true,
): Promise<Map<string, QualifiedName> | null> {
  const started = performance.now();
  const staged = new Map<string, QualifiedName>();
  const created = await inSavepoint(
    ctx.tx,
    SAVEPOINT,
    async () => {
      for (const t of infosOf(ctx)) {
        const stage = { schema: "pg_temp", name: stagingName(t.name) };
        await execute(ctx.tx, createStaging(stage.name, t, { constraints: true }));
        // identity values missing from the release are drawn at the final insert; a trigger fills its columns there
        for (const c of t.columns)
          if ((c.isIdentity || c.filledByTrigger) && !c.nullable) await execute(ctx.tx, dropNotNull(stage, c.name));
        const sequenced = ctx.mode === "plan" ? t.columns.filter(drawsFromSequence).map((c) => c.name) : [];
        if (sequenced.length) await execute(ctx.tx, relaxStaging(stage, sequenced));
        staged.set(t.name, stage);
      }
    },
    (e) => isStagingUnavailable(pgErrorInfo(e).sqlstate),
  );
  if (created.ok) {
    ctx.log("staging tables created", { tables: staged.size, durationMs: Math.round(performance.now() - started) });
    return staged;
  }
  const e = created.error;
  const info = pgErrorInfo(e);
  const meta = { sqlstate: info.sqlstate, detail: info.detail, hint: info.hint };
  if (!canFallBack || ctx.settings.fallback === "fail") {
    throw new EtlError("STAGING_UNAVAILABLE", `${strategy} cannot create its staging tables: ${info.message}`, {
      step: "clear",
      cause: e,
      meta,
      next: canFallBack
        ? "grant TEMPORARY on the database to this role (GRANT TEMPORARY ON DATABASE … TO …) or free temp space; or set fallback: 'direct' for this environment"
        : "grant TEMPORARY on the database to this role (GRANT TEMPORARY ON DATABASE … TO …) or free temp space",
    });
  }
  ctx.warn(`${strategy} cannot create its staging tables; falling back to direct (readers may wait for the whole load)`, {
    reason: info.message,
    ...meta,
    tables: ctx.tables.length,
  });
  return null;
}
