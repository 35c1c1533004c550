/**
 * What the JSON-array scanner learns about each element as it walks, for an NDJSON line:
 * one pass outside its strings (jumped over with indexOf) counts the colons, which are its
 * object members at every depth (see repeated-keys.ts), and notes a run of 16+ digits (a
 * number that long-numbers.ts must quote). It replaced a regex test plus a colon count per
 * line and takes about half their time.
 */
import { pastString } from "./json-tokens.js";

export interface LineFacts {
  /** Colons outside strings: the number of object members, at every depth, in valid JSON. */
  members: number;
  /** A run of 16+ digits and dots outside strings. */
  long: boolean;
}

/** The facts of one NDJSON line (JSON text). */
export function lineFacts(text: string): LineFacts {
  let members = 0;
  let run = 0;
  let long = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      i = pastString(text, i);
      run = 0;
      continue;
    }
    if ((c >= 48 && c <= 57) || c === 46) {
      if (++run >= 16) long = true;
    } else {
      run = 0;
      if (c === 58) members++;
    }
    i++;
  }
  return { members, long };
}
