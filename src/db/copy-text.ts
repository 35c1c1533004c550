import type { ColumnInfo, TableInfo } from "../sql/catalog.js";
import { RawJson } from "../validation/raw-json.js";

/**
 * Validated rows as COPY text format: one line per row, fields separated by tabs, `\N` for
 * NULL. Each field is exactly the text the INSERT path hands the column's input function
 * (json_populate_recordset feeds a JSON string's content, a number's digits, json/jsonb as
 * their text), so both paths store the same values: numeric and int8 keep their digits as
 * the validator wrote them, json/jsonb keep the file's raw text, arrays become array
 * literals with every element quoted. NUL never gets here: the validator refuses it.
 */

type Row = Record<string, unknown>;
type Encode = (v: unknown) => string;

const SPECIAL = /[\\\n\r\t]/;
const SPECIALS = /[\\\n\r\t]/g;
const ESCAPED: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };
const escapeOne = (c: string) => ESCAPED[c] as string;

/** A field's text with COPY's escapes: backslash, newline, carriage return and tab. */
export function escapeCopy(s: string): string {
  return SPECIAL.test(s) ? s.replace(SPECIALS, escapeOne) : s;
}

/** A scalar as its type's input function reads it (booleans as Postgres spells them). */
function scalarText(v: unknown): string {
  switch (typeof v) {
    case "string":
      return v;
    case "number":
    case "bigint":
      return String(v);
    case "boolean":
      return v ? "t" : "f";
    default:
      throw new TypeError(`COPY encoder: unexpected ${v === null ? "null" : typeof v} value for a scalar column`);
  }
}

const ELEMENT_SPECIAL = /["\\]/g;

/** A one-dimensional array literal, every element double-quoted (so no element text is ever read as NULL, a brace or a delimiter). */
function arrayLiteral(v: unknown): string {
  if (!Array.isArray(v)) throw new TypeError("COPY encoder: expected an array");
  let out = "{";
  for (let i = 0; i < v.length; i++) {
    if (i) out += ",";
    const e: unknown = v[i];
    out += e === null || e === undefined ? "NULL" : `"${scalarText(e).replace(ELEMENT_SPECIAL, "\\$&")}"`;
  }
  return out + "}";
}

const jsonText = (v: unknown): string => (v instanceof RawJson ? v.text : JSON.stringify(v));

const scalarField: Encode = (v) => (typeof v === "string" ? escapeCopy(v) : scalarText(v));
const arrayField: Encode = (v) => escapeCopy(arrayLiteral(v));
const jsonField: Encode = (v) => escapeCopy(jsonText(v));

const isJson = (c: ColumnInfo) => c.type === "json" || c.type === "jsonb";

function encoderOf(c: ColumnInfo): Encode {
  if (c.isArray) return arrayField;
  return isJson(c) ? jsonField : scalarField;
}

/**
 * Why a table's rows cannot travel as COPY text with the same values as INSERT … SELECT, or
 * null. Composite values (and arrays of them, of json, or of box, whose delimiter is `;`)
 * are built by json_populate_recordset from nested JSON: they keep the INSERT path.
 */
export function copyUnsupported(info: TableInfo): string | null {
  for (const c of info.columns) {
    if (c.isGenerated) continue;
    if (c.typeKind === "c") return `column ${c.name} is a composite type`;
    if (c.isArray && (isJson(c) || c.type === "box" || (c.typeKind !== "b" && c.typeKind !== "e")))
      return `column ${c.name} is an array of ${c.type}`;
  }
  return null;
}

/** Encodes rows for one COPY, with the columns in `columns`' order. */
export function rowEncoder(info: TableInfo, columns: readonly string[]): (rows: readonly Row[]) => string {
  const byName = new Map(info.columns.map((c) => [c.name, c]));
  const encoders = columns.map((n) => encoderOf(byName.get(n) as ColumnInfo));
  const last = columns.length - 1;
  return (rows) => {
    let out = "";
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as Row;
      for (let i = 0; i <= last; i++) {
        const v = row[columns[i] as string];
        out += v === null || v === undefined ? "\\N" : (encoders[i] as Encode)(v);
        out += i === last ? "\n" : "\t";
      }
    }
    return out;
  };
}
