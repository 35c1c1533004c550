import { execute, query } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import type { TableInfo } from "../sql/catalog.js";
import { dropTables } from "../sql/ddl.js";
import { relaxStaging, type MergeSpec } from "../sql/merge.js";
import { createProbe, fillProbe, probeCollision, probeOrphan } from "../sql/merge-checks.js";
import type { QualifiedName } from "../sql/quote.js";
import { duplicateKeys } from "../sql/staging.js";
import { drawsFromSequence } from "../strategies/staging.js";
import type { StrategyContext } from "../strategies/strategy.js";

type Row = Record<string, unknown>;
const show = (r: Row) =>
  Object.entries(r)
    .filter(([k]) => k !== "n")
    .map(([k, v]) => `${k}=${v === null || v === undefined ? "NULL" : String(v)}`)
    .join(", ");
const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((c) => b.includes(c));

function duplicate(t: TableInfo, key: { name: string; columns: string[] }, r: Row, whose: string): EtlError {
  return new EtlError("DUPLICATE_KEY", `merging ${t.name}: the release would give ${show(r)} (unique key ${key.name}) to ${whose}`, {
    step: "diff",
    table: t.name,
    field: key.columns.join(", "),
    meta: { constraint: key.name, value: key.columns.map((c) => r[c]) },
    next: "another unique column repeats a value of a different merge key: fix the release, or the stored row that holds the value",
  });
}

/**
 * What the upsert would hit on the real table, found without writing it: the rows it would
 * write go into a TEMP probe named like the target (so a NOT NULL or CHECK violation names
 * the table, as the import's would, and is traced to its record the same way), which carries
 * the target's NOT NULL and CHECK constraints; then the table's other unique keys (against
 * the written rows and the stored rows left alone) and its foreign keys (a parent stored, or
 * written by the parent's own merge first) are checked. Parents are probed first; the probes
 * stay for the children's FK checks until {@link dropProbes}.
 */
export async function probeMerge(ctx: StrategyContext, t: TableInfo, spec: MergeSpec, probes: Map<string, QualifiedName>): Promise<void> {
  const probe = { schema: "pg_temp", name: t.name };
  await execute(ctx.tx, createProbe(probe, t));
  // columns the database fills at the write (defaults of omitted columns, identities, triggers) may be NULL here
  const filled = t.columns.filter(
    (c) => !c.nullable && (spec.omittable.includes(c.name) || c.isIdentity || c.filledByTrigger || drawsFromSequence(c)),
  );
  if (filled.length)
    await execute(
      ctx.tx,
      relaxStaging(
        probe,
        filled.map((c) => c.name),
      ),
    );
  await execute(ctx.tx, fillProbe(spec, probe));
  probes.set(t.name, probe);
  for (const u of t.uniqueKeys.filter((k) => !same(k.columns, spec.key))) {
    const [dup] = await query<Row>(ctx.tx, duplicateKeys(probe, u.columns));
    if (dup) throw duplicate(t, u, dup, `${Number(dup.n)} rows it writes`);
    const [hit] = await query<Row>(ctx.tx, probeCollision(spec, probe, u.columns));
    if (hit) {
      const holder = spec.key.map((k, i) => `${k}=${String(hit[`held${i}`])}`).join(", ");
      const value = Object.fromEntries(u.columns.map((c) => [c, hit[c]]));
      throw duplicate(
        t,
        u,
        value,
        `a written row while the stored row ${holder} holds it (the upsert checks each row as it writes it, so a value moving between rows fails too)`,
      );
    }
  }
  for (const fk of t.foreignKeys) {
    const parent = fk.references.schema === t.schema ? (probes.get(fk.references.name) ?? null) : null;
    const [orphan] = await query<Row>(ctx.tx, probeOrphan(probe, fk, parent));
    if (!orphan) continue;
    throw new EtlError("FK_VIOLATION", `merging ${t.name}: ${show(orphan)} has no row in ${fk.references.name} (${fk.name})`, {
      step: "diff",
      table: t.name,
      field: fk.columns.join(", "),
      meta: { constraint: fk.name, value: fk.columns.map((c) => orphan[c]) },
      next: "add the missing parent rows to the release (or to the database) and run again",
    });
  }
}

/** Drops the probes (before the plan's views take the targets' names). */
export async function dropProbes(ctx: StrategyContext, probes: Map<string, QualifiedName>): Promise<void> {
  if (probes.size) await execute(ctx.tx, dropTables([...probes.values()]));
  probes.clear();
}
