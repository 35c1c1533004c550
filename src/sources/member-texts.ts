/**
 * The raw JSON text of a record's members, as written in the file. json/jsonb columns are
 * sent to PostgreSQL as this text rather than as JSON.stringify(JSON.parse(text)), which
 * would round every number beyond a double's 15-17 digits (9007199254740993 → …992).
 */
import { isBlank, pastString } from "./json-tokens.js";

/** Index just past the value that starts at `start` (valid JSON). */
function pastValue(text: string, start: number): number {
  const c = text.charCodeAt(start);
  if (c === 34) return pastString(text, start);
  if (c !== 123 && c !== 91) {
    let i = start + 1;
    for (let d = text.charCodeAt(i); i < text.length && d !== 44 && d !== 125 && d !== 93 && !isBlank(d); d = text.charCodeAt(++i));
    return i;
  }
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d === 34) i = pastString(text, i) - 1;
    else if (d === 123 || d === 91) depth++;
    else if ((d === 125 || d === 93) && --depth === 0) return i + 1;
  }
  return text.length;
}

/** The key of the string token `text[start, end)`, as JSON.parse reads it. */
function keyAt(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end - 1);
  return raw.includes("\\") ? (JSON.parse(text.slice(start, end)) as string) : raw;
}

/** Keys JSON writes as they are, with no escape: their token is `"key"` exactly. */
const PLAIN = /^[^"\\\u0000-\u001f]*$/;

/** Whether the string token `text[start, end)` is the key `key`, as JSON.parse reads it (no allocation for the usual plain key). */
function isKey(text: string, start: number, end: number, key: string, plain: boolean): boolean {
  const len = end - start - 2;
  if (len === key.length && plain) return text.startsWith(key, start + 1);
  if (len < key.length) return false; // an escape only ever makes the token longer
  for (let j = start + 1; j < end - 1; j++) if (text.charCodeAt(j) === 92) return keyAt(text, start, end) === key;
  return !plain && len === key.length && keyAt(text, start, end) === key;
}

/**
 * The text of the member `key` of the JSON object `text`, as written (`key` compared as
 * JSON.parse reads keys), or undefined. `text` must be valid JSON (it has been parsed
 * already); anything but an object has no members. The first match ends the scan unless
 * `repeats` says the key may occur twice: then the last one is given, as JSON.parse keeps.
 */
export function memberText(text: string, key: string, repeats = false): string | undefined {
  const plain = PLAIN.test(key);
  let found: string | undefined;
  let i = 0;
  while (isBlank(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 123) return undefined;
  i++;
  for (;;) {
    while (isBlank(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 34) return found; // `}`: the end
    const keyStart = i;
    i = pastString(text, i);
    const keyEnd = i;
    while (isBlank(text.charCodeAt(i))) i++;
    i++; // the colon
    while (isBlank(text.charCodeAt(i))) i++;
    const end = pastValue(text, i);
    if (isKey(text, keyStart, keyEnd, key, plain)) {
      found = text.slice(i, end);
      if (!repeats) return found;
    }
    i = end;
    while (isBlank(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === 44) i++;
  }
}
