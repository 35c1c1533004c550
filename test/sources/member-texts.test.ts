import { describe, expect, it } from "vitest";
import { memberText } from "../../src/sources/member-texts.js";

describe("memberText", () => {
  it("should give a member's value exactly as written", () => {
    const text = `{ "id": 1, "doc" : {"n": 9007199254740993, "s": "} ] \\" ,", "a": [1.50, -2e-7, [[]]]} ,"big":12345678901234567890,"z":null,"t":"x"}`;
    expect(memberText(text, "doc")).toBe('{"n": 9007199254740993, "s": "} ] \\" ,", "a": [1.50, -2e-7, [[]]]}');
    expect(memberText(text, "big")).toBe("12345678901234567890");
    expect(memberText(text, "z")).toBe("null");
    expect(memberText(text, "t")).toBe('"x"');
    expect(memberText(text, "n")).toBeUndefined();
  });

  it("should read escaped keys as JSON.parse does, and give the last of a repeated key when told it may repeat", () => {
    const text = '{"d\\u006fc": [1], "doc": [2]}';
    expect(memberText(text, "doc")).toBe("[1]");
    expect(memberText(text, "doc", true)).toBe("[2]");
    expect(memberText('{"a\\"b": 1, "a": 2}', 'a"b')).toBe("1");
    expect(memberText('{"ab": 1, "a\\u0062c": 2}', "abc")).toBe("2");
  });

  it("should give nothing for a record that is not an object", () => {
    expect(memberText("[1, 2]", "0")).toBeUndefined();
  });
});
