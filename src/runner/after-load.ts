import type { Logger } from "pino";
import { query, type TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { materializedViews } from "../sql/catalog.js";
import { refreshMaterializedView } from "../sql/ddl.js";
import type { RunPlan } from "./plan.js";

/**
 * What a release runs after its tables are replaced, in the same transaction and before the
 * checks: `refresh` recomputes materialized views that read the tables (CONCURRENTLY when the
 * view allows it, so its readers are not blocked; otherwise its readers wait until COMMIT),
 * then the `afterLoad` statements run, in order. A failure rolls back the whole release.
 */
export async function afterLoad(tx: TxLike, plan: RunPlan, log: Logger): Promise<void> {
  const { refresh, afterLoad: statements } = plan.releaseConfig;
  if (refresh.length) {
    const views = await query<{ name: string; concurrently: boolean }>(tx, materializedViews(plan.schema, refresh));
    const missing = refresh.filter((v) => !views.some((x) => x.name === v));
    if (missing.length) {
      throw new EtlError(
        "CONFIG_INVALID",
        `refresh names ${missing.join(", ")}, which ${missing.length > 1 ? "are not materialized views" : "is not a materialized view"} in schema ${plan.schema}`,
        {
          step: "apply",
          next: "list only materialized views in refresh; put other SQL in afterLoad",
        },
      );
    }
    for (const name of refresh) {
      const started = performance.now();
      const concurrently = views.find((v) => v.name === name)?.concurrently === true;
      await query(tx, refreshMaterializedView({ schema: plan.schema, name }, concurrently));
      log.info({ phase: "apply", view: name, concurrently, durationMs: Math.round(performance.now() - started) }, "refreshed");
    }
  }
  for (const [i, text] of statements.entries()) {
    const started = performance.now();
    await tx.$executeRawUnsafe(text);
    log.info({ phase: "apply", afterLoad: i, durationMs: Math.round(performance.now() - started) }, "afterLoad statement done");
  }
}
