/**
 * JSON.parse turns every number into a double. A decimal or int8 value with more than 15
 * significant digits would silently lose precision, so before parsing a record we quote
 * such number tokens when they are a record's direct field values. The column-type
 * validators accept numeric strings, so the value keeps every digit.
 * Numbers nested deeper (inside json/jsonb values) are left alone.
 */

function significantDigits(text: string, start: number, end: number): number {
  let n = 0;
  let leading = true;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 101 || c === 69) break; // exponent: not part of the mantissa
    if (c < 48 || c > 57) continue;
    if (leading && c === 48) continue;
    leading = false;
    n++;
  }
  return n;
}

/**
 * Returns `text` with long top-level number values quoted, or `text` itself when there are none.
 * Callers pre-check cheaply (16 significant digits need a run of 16+ digits and dots; the
 * closure check tests integer keys' parsed values instead, src/sample/verify-closure.ts).
 */
export function quoteLongNumbers(text: string): string {
  let out = "";
  let last = 0;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
    else if (depth === 1 && (c === 45 || (c >= 48 && c <= 57))) {
      let j = i + 1;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if ((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) j++;
        else break;
      }
      if (significantDigits(text, i, j) > 15) {
        out += `${text.slice(last, i)}"${text.slice(i, j)}"`;
        last = j;
      }
      i = j - 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}
