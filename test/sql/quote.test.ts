import { describe, expect, it } from "vitest";
import { identList, qualified, quoteIdent } from "../../src/sql/quote.js";

describe("quoteIdent", () => {
  it("should wrap a plain name in double quotes, keeping its case", () => {
    expect(quoteIdent("leagues")).toBe('"leagues"');
    expect(quoteIdent("PlayerMatchStat")).toBe('"PlayerMatchStat"');
  });

  it("should double embedded double quotes so a name cannot close its quoting", () => {
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
    expect(quoteIdent('x"; DROP TABLE leagues; --')).toBe('"x""; DROP TABLE leagues; --"');
    expect(quoteIdent('"')).toBe('""""');
    expect(quoteIdent('""')).toBe('""""""');
  });

  it("should leave every other character as it is", () => {
    for (const name of [
      "a b",
      "semi;colon",
      "dash-ed",
      "dot.ted",
      "back\\slash",
      "single'quote",
      "日本",
      "🎉",
      "$1",
      "--",
      "/* c */",
      "new\nline",
    ]) {
      expect(quoteIdent(name)).toBe(`"${name}"`);
    }
  });

  it("should refuse an empty name and a NUL byte", () => {
    expect(() => quoteIdent("")).toThrow(/empty/);
    expect(() => quoteIdent("a\u0000b")).toThrow(/NUL/);
  });
});

describe("qualified", () => {
  it("should quote schema and table separately, never splitting on dots", () => {
    expect(qualified({ schema: "public", name: "leagues" })).toBe('"public"."leagues"');
    expect(qualified({ schema: "my.schema", name: 'a"b.c' })).toBe('"my.schema"."a""b.c"');
  });
});

describe("identList", () => {
  it("should quote every name and join them with commas", () => {
    expect(identList(["id", 'na"me', "a,b"])).toBe('"id", "na""me", "a,b"');
    expect(identList([])).toBe("");
  });
});
