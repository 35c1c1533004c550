/**
 * json/jsonb values travel to PostgreSQL as the text the file holds, not as
 * JSON.stringify(JSON.parse(text)): that round trip turns every number into a double
 * (9007199254740993 → 9007199254740992, 1.50 → 1.5, 1e400 → null). The validator wraps such
 * values in {@link RawJson}; {@link rowsJson} writes the batch with each one's text verbatim.
 * Node 20 has no JSON.rawJSON, so JSON.stringify writes a placeholder string for each (via
 * toJSON), and the placeholders are then replaced by the raw texts in order. The placeholder
 * carries a per-process random nonce: no string in the input can pass for one.
 */
import { randomBytes } from "node:crypto";

/** What JSON.stringify writes for each raw value: the same string every time, replaced in order. */
const PLACEHOLDER = `@raw-json:${randomBytes(12).toString("hex")}`;
const TOKEN = JSON.stringify(PLACEHOLDER);

/** The placeholders' raw texts while {@link rowsJson} runs (JSON.stringify is synchronous). */
let collecting: string[] | null = null;

/** A json/jsonb value: `text` as written in the file, `value` as JSON.parse read it. */
export class RawJson {
  constructor(
    readonly text: string,
    readonly value: unknown,
  ) {}

  /** In {@link rowsJson}: a placeholder; anywhere else (messages, diagnosis): the parsed value. */
  toJSON(): unknown {
    if (!collecting) return this.value;
    collecting.push(this.text);
    return PLACEHOLDER;
  }
}

/**
 * JSON text of a batch of rows, as JSON.stringify writes it, except that each
 * {@link RawJson} value is its raw text.
 *
 * @example rowsJson([{ id: 1, doc: new RawJson('{"n": 9007199254740993}', …) }]) // '[{"id":1,"doc":{"n": 9007199254740993}}]'
 */
export function rowsJson(rows: readonly Record<string, unknown>[]): string {
  const raws: string[] = [];
  collecting = raws;
  let text: string;
  try {
    text = JSON.stringify(rows);
  } finally {
    collecting = null;
  }
  if (!raws.length) return text;
  // JSON.stringify called toJSON in the order it wrote the values: the k-th token is raws[k]
  const parts = text.split(TOKEN);
  if (parts.length !== raws.length + 1) throw new Error(`rowsJson: ${parts.length - 1} placeholders for ${raws.length} raw values`);
  const out: string[] = new Array(parts.length * 2 - 1);
  for (let k = 0; k < parts.length; k++) {
    out[2 * k] = parts[k] as string;
    if (k < raws.length) out[2 * k + 1] = raws[k] as string;
  }
  return out.join("");
}
