import { describe, expect, it } from "vitest";
import { lineFacts } from "../../src/sources/line-facts.js";
import { findRepeatedKey, mayRepeatKeys } from "../../src/sources/repeated-keys.js";

/** As the reader asks: with the colons outside strings that lineFacts (or the scanner) counted. */
const may = (text: string) => mayRepeatKeys(JSON.parse(text) as unknown, lineFacts(text).members);

describe("mayRepeatKeys", () => {
  it("should clear records whose keys are all distinct, at every depth, with or without blanks", () => {
    for (const text of [
      '{"id":1,"at":"2026-01-01T10:00:00Z","x":{"a":1,"b":[{"c":"d:e"}]}}',
      '{ "id" : 1 ,\n\t"name"\r\n:\t"a" }',
      '{"s":"colons: \\"quoted\\" : inside","t":"\\\\"}',
      "[1, 2]",
      "{}",
    ]) {
      expect(may(text), text).toBe(false);
    }
  });

  it("should flag a repeated key, top-level or nested, with or without blanks before the colon", () => {
    for (const text of [
      '{"name":"a","name":"b"}',
      '{"name" :"a", "name"\n: "b"}',
      '{"x":{"a":1,"a":2}}',
      '[{"a":1,"a":1}]',
      '{"a":{"b":1},"a":{}}',
    ]) {
      expect(may(text), text).toBe(true);
    }
  });
});

describe("lineFacts", () => {
  it("should count the colons outside strings and notice 16+ digits outside strings only", () => {
    expect(lineFacts('{"a":"x:y","b":{"c":12345678901234567}}')).toEqual({ members: 3, long: true });
    expect(lineFacts('{"a":"12345678901234567","b":1234567890.12345}')).toEqual({ members: 2, long: true });
    expect(lineFacts('{"a":"12345678901234567","b":123456789012345}')).toEqual({ members: 2, long: false });
    expect(lineFacts('{"a\\\\":1,"s":"\\":"}')).toEqual({ members: 2, long: false });
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
