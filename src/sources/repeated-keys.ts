/**
 * Repeated keys in a record (`{"name": "a", "name": "b"}`): JSON.parse keeps the last value
 * without a word. Finding them costs almost nothing on the hot path: the text's object
 * members are counted as it is walked anyway (the colons outside strings: the JSON-array
 * scanner, lineFacts for an NDJSON line), and when that count equals the number of keys
 * JSON.parse produced (all objects, at every depth), no key can have repeated. Only
 * otherwise does {@link findRepeatedKey} tokenize the text, to name the key.
 */
import { pastString } from "./json-tokens.js";

/** The objects still to count in {@link keyCount}; reused, and emptied after each call. */
const pending: object[] = [];

/** Keys of every object in `value`, nested ones included (no recursion: values nest 100,000 deep). */
function keyCount(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  let n = 0;
  pending.push(value);
  for (let v = pending.pop(); v !== undefined; v = pending.pop()) {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (x !== null && typeof x === "object") pending.push(x);
      }
      continue;
    }
    for (const k in v) {
      n++;
      const x = (v as Record<string, unknown>)[k];
      if (x !== null && typeof x === "object") pending.push(x);
    }
  }
  return n;
}

/**
 * False when `value` (parsed from valid JSON text with `members` object members, counted
 * as the colons outside its strings) certainly repeats no key in any object.
 */
export function mayRepeatKeys(value: unknown, members: number): boolean {
  // the common case, a flat record: its own keys account for every member
  if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === members) return false;
  return members !== keyCount(value);
}

interface Frame {
  /** Keys seen so far; null for an array. */
  keys: Set<string> | null;
  /** Path segment of the current member: its key, or its array index. */
  at: string;
  index: number;
}

/**
 * The path of the first key that repeats within one object of valid JSON `text`, e.g.
 * `["name"]` or `["attributes", "ratings", "pace"]` (array elements by index), or null.
 * Keys compare as JSON.parse reads them: `"a"` and `"\u0061"` are the same key.
 */
export function findRepeatedKey(text: string): string[] | null {
  const stack: Frame[] = [];
  let keyNext = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 34) {
      const end = pastString(text, i) - 1;
      if (keyNext && top?.keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return [...stack.slice(0, -1).map((f) => f.at), key];
        top.keys.add(key);
        top.at = key;
        keyNext = false;
      }
      i = end;
    } else if (c === 123 || c === 91) {
      stack.push({ keys: c === 123 ? new Set() : null, at: "0", index: 0 });
      keyNext = c === 123;
    } else if (c === 125 || c === 93) {
      stack.pop();
    } else if (c === 44 && top) {
      if (top.keys) keyNext = true;
      else top.at = String(++top.index);
    }
  }
  return null;
}
