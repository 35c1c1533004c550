import type { ColumnInfo } from "../sql/catalog.js";
import { codePoints } from "./code-points.js";

/**
 * Column-type checks derived from the catalog. Each returns the value in the form the
 * load SQL sends to Postgres (JSON text), so nothing loses fidelity on the way:
 * decimals and int8 travel as strings, timestamps as ISO text, json as nested JSON.
 */
/** A refused value: why. Checks return the converted value, or an Invalid (no allocation on success). */
export class Invalid {
  constructor(readonly message: string) {}
}

export type Check = (v: unknown) => unknown;

const INT = /^[+-]?\d+$/;
const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)(Z|[+-]\d{2}(:?\d{2})?)?$/i;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

const ok = (value: unknown): unknown => value;
const bad = (message: string) => new Invalid(message);
const show = (v: unknown) => {
  const s = typeof v === "string" ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v);
  return `${s} (${v === null ? "null" : Array.isArray(v) ? "array" : typeof v})`;
};

function intCheck(bits: 16 | 32 | 64, typeName: string): Check {
  const max = 2n ** BigInt(bits - 1) - 1n;
  const min = -(2n ** BigInt(bits - 1));
  const maxN = Number(max);
  const minN = Number(min);
  return (v) => {
    if (typeof v === "number") {
      if (!Number.isInteger(v)) return bad(`expected an integer for ${typeName}, got ${show(v)}`);
      if (bits === 64 && !Number.isSafeInteger(v))
        return bad(`${v} is beyond 2^53 and lost precision as a JSON number; send int8 values this large as strings`);
      if (v > maxN || v < minN) return bad(`${v} is out of range for ${typeName}`);
      return ok(bits === 64 ? String(v) : v);
    }
    if (typeof v === "string" && INT.test(v)) {
      const b = BigInt(v);
      if (b > max || b < min) return bad(`${v} is out of range for ${typeName}`);
      return ok(bits === 64 ? b.toString() : Number(b));
    }
    return bad(`expected an integer for ${typeName}, got ${show(v)}`);
  };
}

/**
 * Significant digits before and after the point, exponent applied, without expanding it
 * (so "1e-7" in a numeric(4,2) is seen as rounded): "0.0500" → 0 and 2, "1.5e3" → 4 and 0.
 */
function decimalShape(s: string): { intDigits: number; fracDigits: number } {
  const [mantissa = "", exp = "0"] = s.replace(/^[+-]/, "").toLowerCase().split("e");
  const [int = "", frac = ""] = mantissa.split(".");
  const digits = int + frac;
  const first = digits.search(/[1-9]/);
  if (first < 0) return { intDigits: 0, fracDigits: 0 };
  const last = digits.length - 1 - [...digits].reverse().findIndex((d) => d !== "0");
  const point = int.length + Number(exp);
  return { intDigits: Math.max(0, point - first), fracDigits: Math.max(0, last + 1 - point) };
}

function numericCheck(precision: number | null, scale: number | null): Check {
  const unit = scale === null ? 0 : 10 ** scale;
  const limit = precision === null || scale === null ? 0 : 10 ** (precision - scale);
  return (v) => {
    let s: string;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return bad(`expected a finite number, got ${show(v)}`);
      // Fast path for the common case: a JSON number within range whose shortest form has at
      // most `scale` decimals is the double nearest to round(v·10^scale)/10^scale. Anything
      // else takes the exact digit count below (and its error message).
      if (limit && Math.abs(v) < limit && Math.round(v * unit) / unit === v) return ok(String(v));
      s = String(v);
    } else if (typeof v === "string" && NUMERIC.test(v)) s = v;
    else return bad(`expected a decimal number or a decimal string, got ${show(v)}`);
    if (precision !== null && scale !== null) {
      const { intDigits, fracDigits } = decimalShape(s);
      if (fracDigits > scale)
        return bad(`${s} has more than ${scale} decimal places for numeric(${precision},${scale}); it would be rounded`);
      if (intDigits > precision - scale) return bad(`${s} does not fit numeric(${precision},${scale})`);
    }
    return ok(s);
  };
}

const floatCheck: Check = (v) => {
  if (typeof v === "number") return Number.isFinite(v) ? ok(v) : bad(`expected a finite number, got ${show(v)}`);
  if (typeof v === "string" && NUMERIC.test(v)) return ok(Number(v));
  return bad(`expected a number, got ${show(v)}`);
};

function textCheck(maxLength: number | null): Check {
  return (v) => {
    if (typeof v !== "string") return bad(`expected a string, got ${show(v)}`);
    if (v.includes("\u0000")) return bad("contains a NUL byte (\\u0000), which PostgreSQL text cannot store");
    if (!v.isWellFormed()) return bad("contains a lone UTF-16 surrogate, which is not valid UTF-8");
    // UTF-16 units are never fewer than code points: only a long string needs counting
    if (maxLength !== null && v.length > maxLength) {
      const chars = codePoints(v);
      if (chars > maxLength) return bad(`is ${chars} characters long; the column allows ${maxLength}`);
    }
    return ok(v);
  };
}

function validDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

const dateCheck: Check = (v) => {
  if (typeof v !== "string") return bad(`expected a date string YYYY-MM-DD, got ${show(v)}`);
  const m = DATE.exec(v) ?? (ISO.test(v) && /T00:00(:00(\.0+)?)?(Z|[+-]00(:?00)?)?$/i.test(v) ? DATE.exec(v.slice(0, 10)) : null);
  if (!m || !validDate(Number(m[1]), Number(m[2]), Number(m[3]))) return bad(`${show(v)} is not a valid date (YYYY-MM-DD)`);
  return ok(m[0]);
};

function timestampCheck(withZone: boolean): Check {
  return (v) => {
    if (typeof v !== "string") return bad(`expected an ISO 8601 timestamp string, got ${show(v)}`);
    const m = ISO.exec(v);
    const day = m?.[1] ? DATE.exec(m[1]) : null;
    if (!m || !day || !validDate(Number(day[1]), Number(day[2]), Number(day[3])) || Number.isNaN(Date.parse(m[5] ? v : `${v}Z`)))
      return bad(`${show(v)} is not a valid ISO 8601 timestamp`);
    const zone = m[5];
    if (withZone) {
      if (!zone) return bad(`${show(v)} has no time zone; timestamptz needs one (e.g. "Z" or "+02:00")`);
      return ok(v);
    }
    // timestamp without time zone: keep wall time; a zone (as Prisma exports it) is converted to UTC.
    if (!zone) return ok(v);
    return ok(utcWallTime(v, m[4] ?? ""));
  };
}

/**
 * `v` (with a zone) as UTC wall time, keeping every fractional digit: Date holds only
 * milliseconds, and its ISO text turns years past 9999 into `+010000`. Offsets are whole
 * minutes, so the fraction never changes.
 */
function utcWallTime(v: string, fraction: string): string {
  const d = new Date(v);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const date = `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`;
  return `${date}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${fraction}`;
}

const boolCheck: Check = (v) => (typeof v === "boolean" ? ok(v) : bad(`expected true or false, got ${show(v)}`));

const uuidCheck: Check = (v) => (typeof v === "string" && UUID.test(v) ? ok(v) : bad(`expected a UUID, got ${show(v)}`));

/** Deeper JSON would overflow the stack of JSON.stringify here and of PostgreSQL's JSON parser. */
export const MAX_JSON_DEPTH = 1_000;

/** Walks a JSON value without recursion (and without a tuple per value): too deep, a NUL byte (in a key or string), or fine. */
function jsonProblem(root: unknown): "deep" | "nul" | null {
  if (typeof root === "string") return root.includes("\u0000") ? "nul" : null;
  if (root === null || typeof root !== "object") return null;
  const objects: object[] = [root];
  const depths: number[] = [1];
  for (let v = objects.pop(); v !== undefined; v = objects.pop()) {
    const depth = depths.pop() as number;
    if (depth > MAX_JSON_DEPTH) return "deep";
    const array = Array.isArray(v);
    for (const k in v) {
      if (!array && k.includes("\u0000")) return "nul";
      const x = (v as Record<string, unknown>)[k];
      if (typeof x === "string") {
        if (x.includes("\u0000")) return "nul";
      } else if (x !== null && typeof x === "object") {
        objects.push(x);
        depths.push(depth + 1);
      }
    }
  }
  return null;
}

const tooDeep = `is nested more than ${MAX_JSON_DEPTH} levels deep`;

const jsonCheck: Check = (v) => (jsonProblem(v) === "deep" ? bad(tooDeep) : ok(v));

const jsonbCheck: Check = (v) => {
  const p = jsonProblem(v);
  return p === "deep" ? bad(tooDeep) : p === "nul" ? bad("contains a NUL byte (\\u0000), which jsonb cannot store") : ok(v);
};

const anyScalar: Check = (v) =>
  typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? ok(v) : bad(`expected a scalar, got ${show(v)}`);

function enumCheck(values: string[], typeName: string): Check {
  const set = new Set(values);
  return (v) => (typeof v === "string" && set.has(v) ? ok(v) : bad(`${show(v)} is not a value of enum ${typeName} (${values.join(", ")})`));
}

function baseCheck(c: ColumnInfo): Check {
  if (c.enumValues) return enumCheck(c.enumValues, c.type);
  switch (c.type) {
    case "int2":
      return intCheck(16, "smallint");
    case "int4":
      return intCheck(32, "integer");
    case "int8":
      return intCheck(64, "bigint");
    case "numeric":
      return numericCheck(c.numericPrecision, c.numericScale);
    case "float4":
    case "float8":
      return floatCheck;
    case "bool":
      return boolCheck;
    case "text":
    case "varchar":
    case "bpchar":
    case "citext":
    case "name":
      return textCheck(c.maxLength);
    case "uuid":
      return uuidCheck;
    case "date":
      return dateCheck;
    case "timestamptz":
      return timestampCheck(true);
    case "timestamp":
      return timestampCheck(false);
    case "json":
      return jsonCheck;
    case "jsonb":
      return jsonbCheck;
    default:
      return anyScalar;
  }
}

/** The check for one column: base type, arrays, and NULL handling. */
export function columnCheck(c: ColumnInfo): Check {
  const base = baseCheck(c);
  const one: Check = c.isArray
    ? (v) => {
        if (!Array.isArray(v)) return bad(`expected an array, got ${show(v)}`);
        const out: unknown[] = [];
        for (let i = 0; i < v.length; i++) {
          if (v[i] === null) {
            out.push(null);
            continue;
          }
          const r = base(v[i]);
          if (r instanceof Invalid) return bad(`element ${i}: ${r.message}`);
          out.push(r);
        }
        return ok(out);
      }
    : base;
  return (v) => {
    if (v === null) return c.nullable ? ok(null) : bad("is null, but the column is NOT NULL");
    return one(v);
  };
}
