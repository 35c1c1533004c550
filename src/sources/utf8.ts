/**
 * Strict UTF-8 for release files: invalid bytes are an error with their byte offset, never
 * a U+FFFD replacement character. Chunks are checked natively; only when a check fails does
 * {@link firstInvalidUtf8} walk the bytes to find where the ill-formed sequence starts.
 * The rules are the Unicode standard's well-formed sequences (Table 3-7), which are also the
 * ones TextDecoder enforces: no overlongs, no surrogates (ED A0..BF), nothing above U+10FFFF.
 */
import { isUtf8 } from "node:buffer";

/** Valid second-byte range of a sequence led by `lead`, or null when `lead` cannot start one. */
function secondByteRange(lead: number): [number, number, number] | null {
  // [min, max, continuation bytes in total]
  if (lead >= 0xc2 && lead <= 0xdf) return [0x80, 0xbf, 1];
  if (lead === 0xe0) return [0xa0, 0xbf, 2];
  if ((lead >= 0xe1 && lead <= 0xec) || lead === 0xee || lead === 0xef) return [0x80, 0xbf, 2];
  if (lead === 0xed) return [0x80, 0x9f, 2];
  if (lead === 0xf0) return [0x90, 0xbf, 3];
  if (lead >= 0xf1 && lead <= 0xf3) return [0x80, 0xbf, 3];
  if (lead === 0xf4) return [0x80, 0x8f, 3];
  return null;
}

/**
 * Index of the first byte of the first ill-formed sequence in `bytes[from..]`, or -1 when
 * all of it is well-formed. A sequence cut off by the end of `bytes` is ill-formed only when
 * `final` (the end of the file); otherwise it may continue in the next chunk.
 */
export function firstInvalidUtf8(bytes: Uint8Array, from = 0, final = true): number {
  const n = bytes.length;
  let i = from;
  while (i < n) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const range = secondByteRange(lead);
    if (!range) return i;
    const [min, max, more] = range;
    for (let k = 1; k <= more; k++) {
      if (i + k >= n) return final ? i : -1;
      const b = bytes[i + k] as number;
      if (k === 1 ? b < min || b > max : b < 0x80 || b > 0xbf) return i;
    }
    i += more + 1;
  }
  return -1;
}

/** Bytes in the sequence that `lead` starts (an invalid lead counts 4: its check fails anyway). */
const sequenceLength = (lead: number) => (lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2);

/**
 * Where a sequence cut off by the end of `tail` (a chunk's last ≤ 3 bytes) starts: the last
 * lead byte, when the bytes after it are fewer than its sequence needs; `tail.length` when
 * nothing is cut off.
 */
function pendingStart(tail: Uint8Array): number {
  for (let i = tail.length - 1; i >= 0; i--) {
    const b = tail[i] as number;
    if ((b & 0xc0) === 0x80) continue;
    return tail.length - i < sequenceLength(b) ? i : tail.length;
  }
  return tail.length;
}

/** The ill-formed sequence at `at` (its lead and the continuation bytes that fit), as hex: "FF", "E6 97". */
function illFormedHex(bytes: Uint8Array, at: number): string {
  const range = secondByteRange(bytes[at] as number);
  let end = at + 1;
  if (range) {
    const [min, max, more] = range;
    for (; end <= at + more && end < bytes.length; end++) {
      const x = bytes[end] as number;
      if (end === at + 1 ? x < min || x > max : x < 0x80 || x > 0xbf) break;
    }
  }
  return Array.from(bytes.subarray(at, end), (x) => x.toString(16).toUpperCase().padStart(2, "0")).join(" ");
}

/** A piece of decoded text; the last one carries `invalid` when the bytes after it are not UTF-8. */
export interface DecodedChunk {
  text: string;
  invalid?: {
    /** Absolute byte offset, in the file, of the first byte of the ill-formed sequence. */
    offset: number;
    /** The ill-formed sequence, as hex: "FF", or "E6 97" for a character cut short. */
    bytes: string;
  };
}

const invalidAt = (bytes: Uint8Array, at: number, offset: number) => ({ offset: offset + at, bytes: illFormedHex(bytes, at) });

/**
 * Decodes a byte stream as strict UTF-8, chunk by chunk. A character cut by a chunk boundary
 * is held back and joined with the next chunk. Each chunk is checked with `isUtf8`
 * (native, SIMD) and decoded with `toString` (one-byte strings for ASCII, which JSON.parse
 * reads fastest; TextDecoder's fatal mode makes two-byte strings here); only a chunk that
 * fails is walked byte by byte, to name the offset. Stops after the chunk carrying `invalid`.
 *
 * @example for await (const c of decodeStrictUtf8(createReadStream(file))) scan(c.text);
 */
export async function* decodeStrictUtf8(stream: AsyncIterable<Buffer>, onBytes?: (n: number) => void): AsyncGenerator<DecodedChunk> {
  let offset = 0; // of the chunk in the file
  // an incomplete sequence from the end of the previous chunks (≤ 3 bytes)
  let pending = Buffer.alloc(0);
  for await (const chunk of stream) {
    onBytes?.(chunk.length);
    let head = "";
    let from = 0;
    if (pending.length) {
      from = Math.min(sequenceLength(pending[0] as number) - pending.length, chunk.length);
      const joined = Buffer.concat([pending, chunk.subarray(0, from)]);
      const complete = joined.length === sequenceLength(joined[0] as number);
      if (complete ? !isUtf8(joined) : firstInvalidUtf8(joined, 0, false) >= 0) {
        yield { text: "", invalid: invalidAt(joined, 0, offset - pending.length) };
        return;
      }
      if (!complete) {
        pending = joined;
        offset += chunk.length;
        continue;
      }
      head = joined.toString("utf8");
    }
    const tailStart = Math.max(from, chunk.length - 3);
    const to = tailStart + pendingStart(chunk.subarray(tailStart));
    const body = chunk.subarray(from, to);
    if (!isUtf8(body)) {
      // both follow Table 3-7; should they ever disagree, blame the start of the chunk
      const bad = Math.max(0, firstInvalidUtf8(body, 0, true));
      yield { text: head + body.toString("utf8", 0, bad), invalid: invalidAt(body, bad, offset + from) };
      return;
    }
    const text = head + body.toString("utf8");
    if (text) yield { text };
    pending = Buffer.from(chunk.subarray(to));
    offset += chunk.length;
  }
  if (pending.length) yield { text: "", invalid: invalidAt(pending, 0, offset - pending.length) };
}
