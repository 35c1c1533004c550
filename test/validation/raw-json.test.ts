import { describe, expect, it } from "vitest";
import { RawJson, rowsJson } from "../../src/validation/raw-json.js";

describe("rowsJson", () => {
  it("should write rows as JSON.stringify does when they hold no raw values", () => {
    const rows = [{ id: 1, s: 'a "b" \\ c', n: null }, { id: 2 }];
    expect(rowsJson(rows)).toBe(JSON.stringify(rows));
  });

  it("should write each raw json value verbatim, digits and blanks included", () => {
    const doc = '{"tag": 9007199254740993, "x": [1.50, -2.5e-7, [[12345678901234567890]]]}';
    const rows = [
      { id: 1, doc: new RawJson(doc, JSON.parse(doc)), name: "a" },
      { id: 2, doc: new RawJson("12345678901234567890", "12345678901234567890") },
    ];
    expect(rowsJson(rows)).toBe(`[{"id":1,"doc":${doc},"name":"a"},{"id":2,"doc":12345678901234567890}]`);
  });

  it("should not let a string in the data pass for a raw value's placeholder", () => {
    const rows = [
      { id: 1, doc: new RawJson("[1]", [1]), s: '"@raw-json:0' },
      { id: 2, s: "@raw-json:" },
    ];
    const text = rowsJson(rows);
    expect(JSON.parse(text)).toEqual([
      { id: 1, doc: [1], s: '"@raw-json:0' },
      { id: 2, s: "@raw-json:" },
    ]);
  });

  it("should give the parsed value anywhere else (diagnosis, messages)", () => {
    expect(JSON.stringify({ doc: new RawJson('{"a": 1}', { a: 1 }) })).toBe('{"doc":{"a":1}}');
  });
});
