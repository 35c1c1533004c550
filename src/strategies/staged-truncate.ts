import { execute } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { truncateTables } from "../sql/statements.js";
import { insertStaged, type StagedTarget, stagedStrategy } from "./staged.js";
import type { ApplyCounts, Strategy, StrategyContext } from "./strategy.js";

/** FKs into the targets from tables outside them: TRUNCATE refuses those. */
function outsideReferences(ctx: StrategyContext): string[] {
  const inGroup = (s: string, n: string) => ctx.targets.some((t) => t.schema === s && t.name === n);
  return ctx.targets.flatMap((t) =>
    t.referencedBy.filter((fk) => !inGroup(fk.table.schema, fk.table.name)).map((fk) => `${fk.name} (${fk.table.name} → ${t.name})`),
  );
}

/**
 * `staged-truncate`: load into TEMP staging while the targets stay untouched; the final
 * phase is `TRUNCATE targets; INSERT … SELECT` per table. Readers wait only during that
 * final phase (TRUNCATE's ACCESS EXCLUSIVE lock lasts until COMMIT). Like TRUNCATE itself,
 * not MVCC-safe for REPEATABLE READ readers that started before the COMMIT.
 */
export function stagedTruncateStrategy(): Strategy {
  return stagedStrategy({
    name: "staged-truncate",
    canFallBack: true,
    async refuse(ctx) {
      const refs = outsideReferences(ctx);
      if (refs.length === 0) return;
      throw new EtlError(
        "STRATEGY_REFUSED",
        `staged-truncate cannot TRUNCATE ${ctx.targets.map((t) => t.name).join(", ")}: tables outside the release reference them through ${refs.join(", ")}`,
        {
          step: "clear",
          meta: { foreignKeys: refs },
          next: "use staged-delete (readers are never blocked), or add the referencing tables to the release",
        },
      );
    },
    locks: (ctx) => ({ tables: [...ctx.targets], mode: "ACCESS EXCLUSIVE" }),
    async apply(ctx, staged, counts) {
      await execute(ctx.tx, truncateTables(ctx.targets));
      const out: Record<string, ApplyCounts> = {};
      for (const t of ctx.targets) {
        const inserted = await insertStaged(ctx, staged.get(t.name) as StagedTarget, t, counts.get(t.name) ?? 0);
        out[t.name] = { inserted, updated: 0, unchanged: 0, deleted: -1, duplicatesInSource: 0 };
      }
      return out;
    },
  });
}
