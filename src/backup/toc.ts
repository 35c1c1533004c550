/** One `TABLE DATA` entry of a dump's table of contents (`pg_restore --list`). */
export interface TableDataEntry {
  /** The list line, as `pg_restore --use-list` reads it back. */
  line: string;
  schema: string;
  table: string;
}

const TABLE_DATA = /^\d+;\s+\d+\s+\d+\s+TABLE DATA\s+(.*)$/;

/**
 * The `TABLE DATA` entries of a `pg_restore --list` output. A line reads
 * `<id>; <tableoid> <oid> TABLE DATA <schema> <table> <owner>`; names may hold spaces, so the
 * `known` names of `schema` are matched first (longest first), and anything else falls back
 * to "schema, table, owner split on spaces".
 *
 * @example
 * tableDataEntries("3387; 0 16413 TABLE DATA public leagues postgres", "public", ["leagues"])
 * // => [{ line: "3387; 0 16413 TABLE DATA public leagues postgres", schema: "public", table: "leagues" }]
 */
export function tableDataEntries(list: string, schema: string, known: readonly string[]): TableDataEntry[] {
  const byLength = [...known].sort((a, b) => b.length - a.length);
  const out: TableDataEntry[] = [];
  for (const line of list.split("\n")) {
    const m = TABLE_DATA.exec(line.trimEnd());
    if (!m) continue;
    const rest = m[1] as string;
    const name = byLength.find((n) => rest.startsWith(`${schema} ${n} `) && !rest.slice(schema.length + n.length + 2).includes(" "));
    if (name !== undefined) {
      out.push({ line: line.trimEnd(), schema, table: name });
      continue;
    }
    const parts = rest.split(" ");
    out.push({ line: line.trimEnd(), schema: parts[0] ?? "", table: parts.slice(1, -1).join(" ") });
  }
  return out;
}

/**
 * A `--use-list` file restoring the data of `tables` in that order: pg_restore restores the
 * listed entries in the order of the file, so parents come before children.
 *
 * @example useList(entries, ["leagues", "teams"]) // => "3387; … leagues …\n3388; … teams …\n"
 */
export function useList(entries: readonly TableDataEntry[], schema: string, tables: readonly string[]): string {
  return tables
    .map((t) => entries.find((e) => e.schema === schema && e.table === t)?.line)
    .filter((l): l is string => l !== undefined)
    .map((l) => `${l}\n`)
    .join("");
}
