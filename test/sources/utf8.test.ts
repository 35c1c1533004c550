import { describe, expect, it } from "vitest";
import { type DecodedChunk, decodeStrictUtf8, firstInvalidUtf8 } from "../../src/sources/utf8.js";

const b = (...bytes: number[]) => Uint8Array.from(bytes);
const utf8 = (s: string) => Buffer.from(s, "utf8");
const strict = new TextDecoder("utf-8", { fatal: true });
const decodes = (bytes: Uint8Array) => {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
};

async function* chunksOf(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (const n of sizes) {
    yield Buffer.from(bytes.subarray(at, at + n));
    at += n;
  }
  if (at < bytes.length) yield Buffer.from(bytes.subarray(at));
}

async function decodeAll(bytes: Uint8Array, sizes: number[]): Promise<{ text: string; invalid: DecodedChunk["invalid"] }> {
  let text = "";
  let invalid: DecodedChunk["invalid"];
  for await (const c of decodeStrictUtf8(chunksOf(bytes, sizes))) {
    text += c.text;
    invalid = c.invalid;
  }
  return { text, invalid };
}

/** Deterministic pseudo-random bytes, biased towards UTF-8 lead and continuation bytes. */
function randomBytes(seed: number, n: number): Uint8Array {
  let x = seed;
  const pool = [0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf4, 0xf5, 0xfe, 0xff];
  return Uint8Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return pool[(x >>> 8) % pool.length] as number;
  });
}

describe("firstInvalidUtf8", () => {
  it("should accept well-formed text, from ASCII to four-byte characters", () => {
    expect(firstInvalidUtf8(utf8('{"a": "é ü 日本 🎉 \uFFFD \uFFFE"}'))).toBe(-1);
  });

  it("should name the first byte of the first ill-formed sequence", () => {
    expect(firstInvalidUtf8(b(0x41, 0xff, 0xfe))).toBe(1);
    expect(firstInvalidUtf8(b(0x41, 0xc0, 0xaf))).toBe(1); // overlong
    expect(firstInvalidUtf8(b(0x41, 0xe0, 0x80, 0xaf))).toBe(1); // overlong
    expect(firstInvalidUtf8(b(0xed, 0xa0, 0x80))).toBe(0); // a UTF-16 surrogate
    expect(firstInvalidUtf8(b(0xf4, 0x90, 0x80, 0x80))).toBe(0); // above U+10FFFF
    expect(firstInvalidUtf8(b(0x41, 0x42, 0x80))).toBe(2); // a stray continuation byte
    expect(firstInvalidUtf8(b(0xe6, 0x97, 0x41))).toBe(0); // cut short
  });

  it("should leave a sequence cut off by the end open unless the input is final", () => {
    expect(firstInvalidUtf8(b(0x41, 0xe6, 0x97), 0, false)).toBe(-1);
    expect(firstInvalidUtf8(b(0x41, 0xe6, 0x97), 0, true)).toBe(1);
  });

  it("should agree with the fatal TextDecoder on which byte strings are UTF-8, and where they stop being it", () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const bytes = randomBytes(seed, 1 + (seed % 9));
      const bad = firstInvalidUtf8(bytes);
      expect(bad < 0, `seed ${seed}: ${Buffer.from(bytes).toString("hex")}`).toBe(decodes(bytes));
      if (bad >= 0) expect(decodes(bytes.subarray(0, bad)), `seed ${seed}: prefix`).toBe(true);
    }
  });
});

describe("decodeStrictUtf8", () => {
  const text = 'x "é" 日本 🎉 y';
  const bytes = utf8(text);

  it("should decode the same text wherever the chunks split a character", async () => {
    for (let i = 0; i <= bytes.length; i++) {
      expect(await decodeAll(bytes, [i]), `split at ${i}`).toEqual({ text, invalid: undefined });
    }
    expect(
      await decodeAll(
        bytes,
        Array.from({ length: bytes.length }, () => 1),
      ),
    ).toEqual({ text, invalid: undefined });
  });

  it("should name the file offset of FF FE and give the text before it, wherever the chunks split", async () => {
    const bad = Buffer.concat([utf8('["é'), b(0xff, 0xfe), utf8('"]')]);
    for (let i = 0; i <= bad.length; i++) {
      for (const rest of [[], [1, 1, 1, 1, 1, 1, 1, 1]]) {
        const r = await decodeAll(bad, [i, ...rest]);
        expect(r.invalid, `split at ${i}`).toEqual({ offset: 4, bytes: "FF" });
        expect(r.text).toBe('["é');
      }
    }
  });

  it("should name a character cut short by the end of the file, or by an ASCII byte in the next chunk", async () => {
    const cut = Buffer.concat([utf8("ab"), b(0xf0, 0x9f, 0x8e)]);
    for (let i = 0; i <= cut.length; i++)
      expect((await decodeAll(cut, [i])).invalid, `split at ${i}`).toEqual({ offset: 2, bytes: "F0 9F 8E" });
    const broken = Buffer.concat([utf8("ab"), b(0xe6, 0x97), utf8("cd")]);
    for (let i = 0; i <= broken.length; i++)
      expect((await decodeAll(broken, [i])).invalid, `split at ${i}`).toEqual({ offset: 2, bytes: "E6 97" });
  });

  it("should count every byte it reads", async () => {
    let n = 0;
    for await (const _c of decodeStrictUtf8(chunksOf(bytes, [3, 3, 3]), (x) => (n += x))) void _c;
    expect(n).toBe(bytes.length);
  });
});
