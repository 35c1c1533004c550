import { createHash } from "node:crypto";
import type { TablePlan } from "../planner/table-plan.js";

/**
 * The release's content as the ledger and the plan hash know it: per table the sha256 of its
 * file's bytes (already read by preflight), and one combined hash over the tables sorted by
 * their schema-qualified name. Canonical in what it covers: it does not change with the order
 * of tables in the config or the file names, only with what is loaded where. A file that is
 * re-formatted (whitespace, key order) is a different release: the bytes are what was reviewed.
 */
export interface ContentHash {
  combined: string;
  /** Table name → sha256 of its file. */
  tables: Record<string, string>;
}

/** @example contentHash(tables).combined // "9c1f…" */
export function contentHash(tables: readonly TablePlan[]): ContentHash {
  const lines = tables.map((t) => `${t.info.schema}.${t.name}\t${t.file.sha256}\n`).sort();
  const h = createHash("sha256").update("atomic-etl content v1\n");
  for (const l of lines) h.update(l);
  return { combined: h.digest("hex"), tables: Object.fromEntries(tables.map((t) => [t.name, t.file.sha256])) };
}
