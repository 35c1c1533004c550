import { describe, expect, it } from "vitest";
import { findRepeatedKey, mayRepeatKeys } from "../../src/sources/repeated-keys.js";

const may = (text: string, members?: number) => mayRepeatKeys(text, JSON.parse(text) as unknown, members);

describe("mayRepeatKeys", () => {
  it("should clear records whose keys are all distinct, at every depth, with or without blanks", () => {
    for (const text of [
      '{"id":1,"at":"2026-01-01T10:00:00Z","x":{"a":1,"b":[{"c":"d:e"}]}}',
      '{ "id" : 1 ,\n\t"name"\r\n:\t"a" }',
      "[1, 2]",
      "{}",
    ]) {
      expect(may(text), text).toBe(false);
    }
  });

  it("should flag a repeated key, top-level or nested, with or without blanks before the colon", () => {
    for (const text of ['{"name":"a","name":"b"}', '{"name" :"a", "name"\n: "b"}', '{"x":{"a":1,"a":2}}', '[{"a":1,"a":1}]']) {
      expect(may(text), text).toBe(true);
    }
  });

  it("should flag a string holding a quote before a colon, which findRepeatedKey then clears", () => {
    const text = '{"s":"colons: \\"quoted\\" : inside","t":"\\\\"}';
    expect(may(text)).toBe(true);
    expect(findRepeatedKey(text)).toBeNull();
  });

  it("should use an exact member count when the caller has one", () => {
    expect(may('{"s":"\\":","t":1}', 2)).toBe(false);
    expect(may('{"a":1,"a":2}', 2)).toBe(true);
  });
});

describe("findRepeatedKey", () => {
  it("should give the path of the first repeated key", () => {
    expect(findRepeatedKey('{"name": "a", "name": "b"}')).toEqual(["name"]);
    expect(findRepeatedKey('{"id": 1, "attributes": {"ratings": {"pace": 1, "pace": 2}}}')).toEqual(["attributes", "ratings", "pace"]);
    expect(findRepeatedKey('{"tags": [{"a": 1}, {"b": 1, "b": 2}]}')).toEqual(["tags", "1", "b"]);
  });

  it("should compare keys as JSON.parse reads them", () => {
    expect(findRepeatedKey('{"a": 1, "\\u0061": 2}')).toEqual(["a"]);
    expect(findRepeatedKey('{"a\\"b": 1, "a\\u0022b": 2}')).toEqual(['a"b']);
  });

  it("should not take strings, values or sibling objects for repeats", () => {
    expect(findRepeatedKey('{"a": "a", "b": {"a": 1}, "c": [{"a": 1}, {"a": 2}], "d": "\\":"}')).toBeNull();
    expect(findRepeatedKey('{"s": "{\\"a\\": 1, \\"a\\": 2}"}')).toBeNull();
  });
});
