import { describe, expect, it } from "vitest";
import { quoteLongNumbers } from "../../src/sources/long-numbers.js";

describe("quoteLongNumbers", () => {
  it("should quote a record's direct number values of more than 15 significant digits", () => {
    expect(quoteLongNumbers(`{"a":12345678901234567,"b":1}`)).toBe(`{"a":"12345678901234567","b":1}`);
    expect(quoteLongNumbers(`{"a": -1234567890123456.5 }`)).toBe(`{"a": "-1234567890123456.5" }`);
    expect(quoteLongNumbers(`{"a":1.2345678901234567e5}`)).toBe(`{"a":"1.2345678901234567e5"}`);
  });

  it("should return the text itself when nothing needs quoting", () => {
    const text = `{"a":123456789012345,"b":0.0000000000000001,"c":"12345678901234567"}`;
    expect(quoteLongNumbers(text)).toBe(text);
  });

  it("should leave numbers inside nested objects and arrays alone", () => {
    const text = `{"o":{"n":12345678901234567},"l":[12345678901234567,[12345678901234567]]}`;
    expect(quoteLongNumbers(text)).toBe(text);
  });

  it("should not be fooled by digits, quotes, escapes or brackets inside strings", () => {
    expect(quoteLongNumbers(`{"s":"\\"}{12345678901234567","n":12345678901234567}`)).toBe(
      `{"s":"\\"}{12345678901234567","n":"12345678901234567"}`,
    );
  });
});
