import { describe, expect, it } from "vitest";
import { JsonArrayScanner, type ScanProblem } from "../../src/sources/json-array-scanner.js";
import { quoteLongNumbers } from "../../src/sources/long-numbers.js";

/** What JSON.parse makes of a nested 17-digit number: it is left to lose precision, as JSON says. */
const LOSSY = Number("12345678901234567");

/**
 * Feeds `chunks` to a fresh scanner; returns the elements, parsed as the reader does
 * (long numbers quoted where the scanner flags them), and the problem, if any.
 */
function scan(chunks: string[]): { elements: unknown[]; problem: ScanProblem | null } {
  const s = new JsonArrayScanner();
  const out: string[] = [];
  const long: boolean[] = [];
  const colons: number[] = [];
  for (const c of chunks) s.push(c, out, long, colons);
  s.end();
  expect(long).toHaveLength(out.length);
  expect(colons).toHaveLength(out.length);
  return { elements: out.map((t, i) => JSON.parse(long[i] ? quoteLongNumbers(t) : t) as unknown), problem: s.problem };
}

const bytes = (text: string) => [...text];
const splitAt = (text: string, i: number) => [text.slice(0, i), text.slice(i)];
const chunksOf = (text: string, n: number) => Array.from({ length: Math.ceil(text.length / n) }, (_, i) => text.slice(i * n, i * n + n));

const TRICKY = [
  { id: 1, s: 'he said "hi" and left' },
  { id: 2, s: "back\\slash\\", t: "\\" },
  { id: 3, s: "} ] , { [ :", nested: { a: [1, { b: "]}" }], c: {} } },
  { id: 4, s: 'mixed \\" and \\\\" and "', u: "é ü 日本 🎉", e: "" },
  { id: 5, list: [[], [[]], {}], n: -0.5e-3, t: true, f: false, z: null },
];
const TRICKY_TEXT = ` \n[\n  ${TRICKY.map((r) => JSON.stringify(r)).join(" ,\n  ")}\n]\n`;

describe("JsonArrayScanner", () => {
  it("should split an array into its elements", () => {
    expect(scan([TRICKY_TEXT])).toEqual({ elements: TRICKY, problem: null });
  });

  it("should give the same elements wherever one chunk boundary falls", () => {
    for (let i = 0; i <= TRICKY_TEXT.length; i++) {
      expect(scan(splitAt(TRICKY_TEXT, i)), `split at ${i}`).toEqual({ elements: TRICKY, problem: null });
    }
  });

  it("should give the same elements when fed one character at a time", () => {
    expect(scan(bytes(TRICKY_TEXT))).toEqual({ elements: TRICKY, problem: null });
  });

  it("should give the same elements for every chunk size", () => {
    for (let n = 2; n <= 40; n++) expect(scan(chunksOf(TRICKY_TEXT, n)), `chunks of ${n}`).toEqual({ elements: TRICKY, problem: null });
  });

  it("should split arrays of scalars, including strings holding commas and brackets", () => {
    const text = `[1, "a,b]", -2.5 , true,null,"\\"]"]`;
    const want = [1, "a,b]", -2.5, true, null, '"]'];
    for (let i = 0; i <= text.length; i++) expect(scan(splitAt(text, i)).elements, `split at ${i}`).toEqual(want);
    expect(scan(bytes(text)).elements).toEqual(want);
  });

  it("should accept an empty array, with or without whitespace, and a byte-order mark", () => {
    expect(scan(["[]"])).toEqual({ elements: [], problem: null });
    expect(scan(bytes(" [ \n\t ] \n"))).toEqual({ elements: [], problem: null });
    expect(scan(['\ufeff[{"a":1}]'])).toEqual({ elements: [{ a: 1 }], problem: null });
  });

  it("should quote numbers of more than 15 significant digits at the top level of a record, leaving nested ones alone", () => {
    const text = `[{"id":12345678901234567,"neg":-98765432109876543,"dec":123456789012.3456789,"small":42,"nested":{"n":12345678901234567},"arr":[12345678901234567],"s":"12345678901234567"}]`;
    const expected = {
      id: "12345678901234567",
      neg: "-98765432109876543",
      dec: "123456789012.3456789",
      small: 42,
      nested: { n: LOSSY },
      arr: [LOSSY],
      s: "12345678901234567",
    };
    expect(scan([text]).elements).toEqual([expected]);
    for (let i = 0; i <= text.length; i++) expect(scan(splitAt(text, i)).elements, `split at ${i}`).toEqual([expected]);
    expect(scan(bytes(text)).elements).toEqual([expected]);
  });

  it("should leave numbers of up to 15 significant digits as numbers", () => {
    const text = `[{"a":123456789012345,"b":0.000000000000001234,"c":1234567890.12345}]`;
    expect(scan(bytes(text)).elements).toEqual([{ a: 123456789012345, b: 0.000000000000001234, c: 1234567890.12345 }]);
  });

  it("should report a truncated array", () => {
    for (const text of ['[{"a":1}', '[{"a":1},', '[{"a":', '[{"a":"x', "[", '[{"a":1}, {"b"']) {
      expect(scan([text]).problem?.kind, text).toBe("truncated");
      expect(scan(bytes(text)).problem?.kind, text).toBe("truncated");
    }
  });

  it("should report the complete elements before a truncation", () => {
    const r = scan(['[{"a":1},{"b":2},{"c"']);
    expect(r.elements).toEqual([{ a: 1 }, { b: 2 }]);
    expect(r.problem).toMatchObject({ kind: "truncated" });
  });

  it("should report a trailing comma or a stray comma as an empty element", () => {
    expect(scan(['[{"a":1},]']).problem).toMatchObject({ kind: "empty-element", offset: 9 });
    expect(scan(bytes('[{"a":1}, ]')).problem).toMatchObject({ kind: "empty-element" });
    expect(scan(["[1,]"]).problem).toMatchObject({ kind: "empty-element" });
    expect(scan(['[{"a":1},,{"b":2}]']).problem).toMatchObject({ kind: "empty-element" });
    expect(scan(["[,1]"]).problem).toMatchObject({ kind: "empty-element" });
  });

  it("should report a document that is not an array, with where and what was found", () => {
    expect(scan(['{"a":1}']).problem).toEqual({ kind: "not-array", offset: 0, found: '{"a":1}' });
    expect(scan(['  "text"']).problem).toMatchObject({ kind: "not-array", offset: 2 });
    expect(scan(bytes("null")).problem).toMatchObject({ kind: "not-array" });
  });

  it("should report an empty input as truncated", () => {
    expect(scan([]).problem).toMatchObject({ kind: "truncated" });
    expect(scan(["  \n"]).problem).toMatchObject({ kind: "truncated" });
  });

  it("should report text after the closing bracket, and elements without a comma", () => {
    expect(scan(['[{"a":1}] x']).problem).toMatchObject({ kind: "trailing-garbage", offset: 10, found: "x" });
    expect(scan(["[{}][]"]).problem).toMatchObject({ kind: "trailing-garbage" });
    expect(scan(['[{"a":1} {"b":2}]']).problem).toMatchObject({ kind: "trailing-garbage" });
  });

  it("should stop at the first problem and ignore later input", () => {
    const s = new JsonArrayScanner();
    const out: string[] = [];
    s.push("[1,,", out, [], []);
    s.push('{"a":1}]', out, [], []);
    s.end();
    expect(out).toEqual(["1"]);
    expect(s.problem).toMatchObject({ kind: "empty-element", offset: 3 });
  });
});
