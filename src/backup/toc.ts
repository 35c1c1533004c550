import { type QualifiedName, qualified } from "../sql/quote.js";

/** One `TABLE DATA` entry of a dump's table of contents (`pg_restore --list`). */
export interface TableDataEntry extends QualifiedName {
  /** The list line, as `pg_restore --use-list` reads it back. */
  line: string;
}

const TABLE_DATA = /^\d+;\s+\d+\s+\d+\s+TABLE DATA\s+(.*)$/;

/**
 * The `TABLE DATA` entries of a `pg_restore --list` output. A line reads
 * `<id>; <tableoid> <oid> TABLE DATA <schema> <table> <owner>`; names may hold spaces, so the
 * `known` tables are matched first (longest first), and anything else falls back to "schema,
 * table, owner split on spaces".
 *
 * @example
 * tableDataEntries("3387; 0 16413 TABLE DATA public leagues postgres", [{ schema: "public", name: "leagues" }])
 * // => [{ line: "3387; 0 16413 TABLE DATA public leagues postgres", schema: "public", name: "leagues" }]
 */
export function tableDataEntries(list: string, known: readonly QualifiedName[]): TableDataEntry[] {
  const byLength = [...known].sort((a, b) => b.schema.length + b.name.length - (a.schema.length + a.name.length));
  const out: TableDataEntry[] = [];
  for (const raw of list.split("\n")) {
    const line = raw.trimEnd();
    const m = TABLE_DATA.exec(line);
    if (!m) continue;
    const rest = m[1] as string;
    const hit = byLength.find(
      (t) => rest.startsWith(`${t.schema} ${t.name} `) && !rest.slice(t.schema.length + t.name.length + 2).includes(" "),
    );
    if (hit) {
      out.push({ line, schema: hit.schema, name: hit.name });
      continue;
    }
    const parts = rest.split(" ");
    out.push({ line, schema: parts[0] ?? "", name: parts.slice(1, -1).join(" ") });
  }
  return out;
}

/**
 * A `--use-list` file restoring the data of `tables` in that order: pg_restore restores the
 * listed entries in the order of the file, so parents come before children.
 *
 * @example useList(entries, [{ schema: "public", name: "leagues" }, { schema: "public", name: "teams" }]) // => "3387; … leagues …\n3388; … teams …\n"
 */
export function useList(entries: readonly TableDataEntry[], tables: readonly QualifiedName[]): string {
  const byName = new Map(entries.map((e) => [qualified(e), e.line]));
  return tables
    .map((t) => byName.get(qualified(t)))
    .filter((l): l is string => l !== undefined)
    .map((l) => `${l}\n`)
    .join("");
}
