import type { CheckConfig } from "../config/schema.js";
import type { TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";

/** One check that passed. */
export interface CheckResult {
  name: string;
  passed: boolean;
  durationMs: number;
}

/**
 * Runs the release's user checks inside the transaction, before COMMIT. An SQL check
 * passes when its query returns no rows (the rows are the violations); a function check
 * fails by returning `false` or a message, or by throwing.
 */
export async function runChecks(tx: TxLike, checks: readonly CheckConfig[]): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of checks) {
    const started = performance.now();
    let failure: string | null = null;
    let meta: Record<string, unknown> = {};
    if ("sql" in c) {
      const rows = await tx.$queryRawUnsafe<unknown[]>(c.sql);
      if (rows.length) {
        failure = `${rows.length} violating row(s)`;
        meta = { rows: rows.slice(0, 5).map((r) => JSON.parse(JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v)))) };
      }
    } else {
      let r: unknown;
      try {
        r = await c.run(tx);
      } catch (e) {
        throw new EtlError("CHECK_FAILED", `check "${c.name}" threw: ${(e as Error).message}`, { step: "validate", cause: e });
      }
      if (r === false) failure = "returned false";
      else if (typeof r === "string") failure = r;
    }
    const durationMs = Math.round(performance.now() - started);
    if (failure !== null) {
      throw new EtlError("CHECK_FAILED", `check "${c.name}" failed: ${failure}`, { step: "validate", meta: { check: c.name, ...meta } });
    }
    out.push({ name: c.name, passed: true, durationMs });
  }
  return out;
}
