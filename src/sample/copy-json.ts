import type { ColumnInfo } from "../sql/catalog.js";

/**
 * JSON lines built in this process from `COPY … TO STDOUT` text, so the server only does what
 * pg_dump does (no `row_to_json` per row). Each column is encoded as `row_to_json` would write
 * it under the session settings the snapshot sets (TimeZone UTC, DateStyle ISO, shortest-exact
 * floats, hex bytea): numbers and booleans bare, json/jsonb embedded, timestamps in ISO 8601
 * with `T`, everything else a JSON string. Types this encoder does not know (arrays, composites,
 * ranges, domains …) are selected as `to_json(col)::text` and embedded as they come.
 */
export type ColumnKind = "number" | "bool" | "json" | "string" | "timestamptz" | "timestamp";

const NUMBER_TYPES = new Set(["int2", "int4", "int8", "oid", "numeric", "float4", "float8"]);
const STRING_TYPES = new Set([
  "text",
  "varchar",
  "bpchar",
  "name",
  "citext",
  "uuid",
  "date",
  "time",
  "timetz",
  "interval",
  "bytea",
  "inet",
  "cidr",
  "macaddr",
  "money",
  "bit",
  "varbit",
  "xml",
]);

/** How a column travels: its own text, or through `to_json` on the server (null kind). */
export function kindOf(c: ColumnInfo): ColumnKind | null {
  if (c.isArray || c.typeKind === "d" || c.typeKind === "c" || c.typeKind === "r" || c.typeKind === "m") return null;
  if (c.typeKind === "e") return "string";
  if (NUMBER_TYPES.has(c.type)) return "number";
  if (c.type === "bool") return "bool";
  if (c.type === "json" || c.type === "jsonb") return "json";
  if (c.type === "timestamptz" || c.type === "timestamp") return c.type;
  return STRING_TYPES.has(c.type) ? "string" : null;
}

/** COPY text escapes: `\\`, and `\b \f \n \r \t \v` for those control characters (COPY TO writes no others). */
function unescape(s: string): string {
  if (!s.includes("\\")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = s[++i];
    out += n === "n" ? "\n" : n === "t" ? "\t" : n === "r" ? "\r" : n === "b" ? "\b" : n === "f" ? "\f" : n === "v" ? "\v" : (n ?? "");
  }
  return out;
}

function encodeValue(kind: ColumnKind | null, raw: string): string {
  if (raw === "\\N") return "null";
  switch (kind) {
    case "number":
      // PostgreSQL prints every number as a JSON number but NaN and ±Infinity, which row_to_json quotes
      return raw === "NaN" || raw === "Infinity" || raw === "-Infinity" ? `"${raw}"` : raw;
    case "bool":
      return raw === "t" ? "true" : "false";
    case "timestamptz": {
      // digits, "-", ":", "." and a zone: nothing to escape; "+00" becomes "+00:00" as in row_to_json
      const iso = raw.replace(" ", "T");
      const c = iso.charCodeAt(iso.length - 3);
      return c === 43 || c === 45 ? `"${iso}:00"` : `"${iso}"`;
    }
    case "timestamp":
      return `"${raw.replace(" ", "T")}"`;
    case "string":
      return JSON.stringify(unescape(raw));
    default:
      // json, jsonb and to_json(…) text: valid JSON once COPY's escaping is undone
      return unescape(raw);
  }
}

/** Turns one COPY text line (no newline) into the row's JSON object text. */
export function lineEncoder(columns: readonly ColumnInfo[]): (line: string) => string {
  const kinds = columns.map(kindOf);
  const keys = columns.map((c, i) => `${i ? "," : "{"}${JSON.stringify(c.name)}:`);
  return (line) => {
    let out = "";
    let from = 0;
    for (let i = 0; i < kinds.length; i++) {
      const tab = i === kinds.length - 1 ? line.length : line.indexOf("\t", from);
      out += (keys[i] as string) + encodeValue(kinds[i] as ColumnKind | null, line.slice(from, tab < 0 ? line.length : tab));
      from = tab + 1;
    }
    return `${out}}`;
  };
}
