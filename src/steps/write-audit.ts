import { query, type TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { writtenTables } from "../sql/write-audit.js";

interface WrittenRow {
  relid: string;
  schema: string;
  name: string;
  root_schema: string;
  root_name: string;
  ins: string;
  upd: string;
  del: string;
  exclusive: boolean;
}

/** What the transaction had written, per table, at one moment. */
export type WriteSnapshot = ReadonlyMap<string, WrittenRow>;

export async function snapshotWrites(tx: TxLike): Promise<WriteSnapshot> {
  const rows = await query<WrittenRow>(tx, writtenTables());
  return new Map(rows.map((r) => [r.relid, r]));
}

const state = (r: WrittenRow | undefined) => (r ? `${r.ins}/${r.upd}/${r.del}/${r.exclusive}` : "0/0/0/false");

/**
 * Tables written between two snapshots (their counters or their ACCESS EXCLUSIVE lock
 * changed) that are not in `declared` (a partition counts as its root), as `schema.table`.
 */
export function undeclaredWrites(
  before: WriteSnapshot,
  after: WriteSnapshot,
  declared: { schema: string; tables: ReadonlySet<string> },
): string[] {
  const out = new Set<string>();
  for (const [relid, r] of after) {
    if (state(before.get(relid)) === state(r)) continue;
    const ok = (schema: string, name: string) => schema === declared.schema && declared.tables.has(name);
    if (ok(r.schema, r.name) || ok(r.root_schema, r.root_name)) continue;
    out.add(`${r.root_schema}.${r.root_name}`);
  }
  return [...out].sort();
}

/** Fails a step that wrote outside its `writes`, before anything could commit. */
export function refuseUndeclared(step: string, tables: readonly string[], declared: readonly string[]): void {
  if (!tables.length) return;
  throw new EtlError(
    "UNDECLARED_WRITE",
    `step "${step}" wrote ${tables.join(", ")}, which it does not declare in writes (${declared.length ? declared.join(", ") : "none"}): that table is outside the run's backup and proof, so the run was rolled back`,
    {
      step: "step",
      table: tables[0],
      meta: { stepName: step, tables, declared },
      next: `add ${tables.map((t) => JSON.stringify(t.split(".").slice(1).join("."))).join(", ")} to the step's writes (or stop writing it), then run again`,
    },
  );
}
