import { describe, expect, it } from "vitest";
import { columnInfo } from "../fixtures/catalog.js";
import type { ColumnInfo } from "../../src/sql/catalog.js";
import { columnCheck, Invalid } from "../../src/validation/column-types.js";
import { compileTableValidator, deriveTableSchema, RowProblem } from "../../src/validation/table-checks.js";

const column = (type: string, extra: Partial<ColumnInfo> = {}): ColumnInfo => columnInfo("c", type, extra);

const accepts = (c: ColumnInfo, v: unknown) => {
  const r = columnCheck(c)(v);
  if (r instanceof Invalid) throw new Error(`refused ${JSON.stringify(v)}: ${r.message}`);
  return r;
};
const refuses = (c: ColumnInfo, v: unknown) => {
  const r = columnCheck(c)(v);
  if (!(r instanceof Invalid)) throw new Error(`accepted ${JSON.stringify(v)}`);
  return r.message;
};

describe("columnCheck", () => {
  it("should pass int8 values as exact strings, from numbers and from strings beyond 2^53", () => {
    const c = column("int8");
    expect(accepts(c, 42)).toBe("42");
    expect(accepts(c, "9007199254740993")).toBe("9007199254740993");
    expect(accepts(c, "-9223372036854775808")).toBe("-9223372036854775808");
    expect(refuses(c, "9223372036854775808")).toContain("out of range");
    expect(refuses(c, 2 ** 53 + 2)).toContain("2^53");
    expect(refuses(c, 1.5)).toContain("integer");
  });

  it("should check int2 and int4 ranges", () => {
    expect(accepts(column("int2"), "32767")).toBe(32767);
    expect(refuses(column("int2"), 32768)).toContain("out of range for smallint");
    expect(refuses(column("int4"), 2 ** 31)).toContain("out of range for integer");
  });

  it("should pass decimals as strings and refuse ones that would be rounded or overflow", () => {
    const c = column("numeric", { numericPrecision: 14, numericScale: 2 });
    expect(accepts(c, "123456789012.34")).toBe("123456789012.34");
    expect(accepts(c, 7.25)).toBe("7.25");
    expect(accepts(c, "1.50")).toBe("1.50");
    expect(accepts(c, "-0.5")).toBe("-0.5");
    expect(refuses(c, "1.234")).toContain("more than 2 decimal places");
    expect(refuses(c, "1234567890123.4")).toContain("does not fit numeric(14,2)");
    expect(refuses(c, "12abc")).toContain("decimal");
    expect(accepts(column("numeric"), "123456789012345678901234567890.123456789")).toBe("123456789012345678901234567890.123456789");
  });

  it("should judge a JSON number exactly as the same number written as a string (the number fast path agrees)", () => {
    // deterministic pseudo-random doubles of every magnitude and 0-6 decimals, near the limits too
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const [p, sc] of [
      [4, 2],
      [14, 2],
      [10, 0],
      [6, 6],
      [18, 4],
    ] as const) {
      const check = columnCheck(column("numeric", { numericPrecision: p, numericScale: sc }));
      for (let i = 0; i < 5000; i++) {
        const decimals = Math.floor(rand() * 7);
        const magnitude = 10 ** (Math.floor(rand() * (p - sc + 2)) - 1);
        const v = Number((((rand() - 0.5) * 2 * magnitude) as number).toFixed(decimals));
        for (const x of [v, v + 1e-12, 10 ** (p - sc) - 10 ** -sc, 10 ** (p - sc)]) {
          const asNumber = check(x);
          const asString = check(String(x));
          expect([x, asNumber instanceof Invalid]).toEqual([x, asString instanceof Invalid]);
          if (!(asNumber instanceof Invalid)) expect(asNumber).toBe(String(x));
        }
      }
    }
  });

  it("should apply an exponent before deciding whether a decimal would be rounded or overflow", () => {
    const c = column("numeric", { numericPrecision: 4, numericScale: 2 });
    expect(refuses(c, 0.0000001)).toContain("it would be rounded");
    expect(refuses(c, "1.234e0")).toContain("it would be rounded");
    expect(refuses(c, "1e-999999999")).toContain("it would be rounded");
    expect(accepts(c, "1.5e1")).toBe("1.5e1");
    expect(accepts(c, "0.0500")).toBe("0.0500");
    expect(accepts(c, "-0.00")).toBe("-0.00");
    expect(accepts(c, "2500e-2")).toBe("2500e-2");
    expect(refuses(c, "1.5e2")).toContain("does not fit numeric(4,2)");
    expect(refuses(c, "1e999999999")).toContain("does not fit");
  });

  it("should require a zone for timestamptz and keep the wall time of timestamp", () => {
    const tz = column("timestamptz");
    expect(accepts(tz, "2026-03-01T12:00:00.123+02:00")).toBe("2026-03-01T12:00:00.123+02:00");
    expect(refuses(tz, "2026-03-01T12:00:00")).toContain("no time zone");
    expect(refuses(tz, "2026-02-30T12:00:00Z")).toContain("not a valid ISO 8601");
    const ts = column("timestamp");
    expect(accepts(ts, "2026-03-01T18:30:00")).toBe("2026-03-01T18:30:00");
    expect(accepts(ts, "2026-03-01T18:30:00.000Z")).toBe("2026-03-01T18:30:00.000");
    expect(refuses(ts, 1700000000)).toContain("ISO 8601");
  });

  it("should accept dates, and midnight timestamps as dates", () => {
    const d = column("date");
    expect(accepts(d, "2024-02-29")).toBe("2024-02-29");
    expect(accepts(d, "2024-02-29T00:00:00.000Z")).toBe("2024-02-29");
    expect(refuses(d, "2023-02-29")).toContain("not a valid date");
    expect(refuses(d, "2024-02-29T10:00:00Z")).toContain("not a valid date");
  });

  it("should check varchar length in characters, not UTF-16 units", () => {
    const c = column("varchar", { maxLength: 3 });
    expect(accepts(c, "🎉🎉🎉")).toBe("🎉🎉🎉");
    expect(refuses(c, "abcd")).toContain("4 characters long; the column allows 3");
    expect(refuses(column("text"), "a\u0000b")).toContain("NUL");
    expect(refuses(column("text"), "\ud800")).toContain("surrogate");
    expect(refuses(column("text"), 5)).toContain("expected a string");
  });

  it("should say a too-long value's length in code points, as varchar counts it, even at twice the limit in UTF-16 units", () => {
    const c = column("varchar", { maxLength: 120 });
    expect(accepts(c, "😀".repeat(120))).toBe("😀".repeat(120));
    expect(refuses(c, "😀".repeat(121))).toContain("is 121 characters long; the column allows 120");
    expect(refuses(c, `${"😀".repeat(100)}${"a".repeat(21)}`)).toContain("is 121 characters long");
    expect(refuses(c, "a".repeat(300))).toContain("is 300 characters long");
  });

  it("should accept only an enum's values", () => {
    const c = column("match_status", { typeKind: "e", enumValues: ["SCHEDULED", "LIVE"] });
    expect(accepts(c, "LIVE")).toBe("LIVE");
    expect(refuses(c, "live")).toContain("SCHEDULED, LIVE");
  });

  it("should keep json values as they are and refuse NUL bytes in jsonb", () => {
    const v = { a: [1, { b: null }], s: "x" };
    expect(accepts(column("json"), v)).toBe(v);
    expect(accepts(column("jsonb"), v)).toBe(v);
    expect(refuses(column("jsonb"), { k: "a\u0000" })).toContain("NUL");
  });

  it("should refuse null in a NOT NULL column and check array elements", () => {
    expect(refuses(column("int4", { nullable: false }), null)).toContain("NOT NULL");
    expect(accepts(column("int4"), null)).toBeNull();
    const arr = column("int8", { isArray: true });
    expect(accepts(arr, [1, "9007199254740993", null])).toEqual(["1", "9007199254740993", null]);
    expect(refuses(arr, [1, "x"])).toContain("element 1");
  });
});

describe("deriveTableSchema", () => {
  const columns = [
    column("int4", { name: "id", nullable: false }),
    column("int2", { name: "goals", nullable: false, hasDefault: true }),
    column("text", { name: "note" }),
    column("int4", { name: "gen", isGenerated: true }),
  ];

  it("should require NOT NULL columns without a default and leave defaulted ones absent", () => {
    const s = deriveTableSchema(columns);
    expect(s.parse({ id: 1 })).toEqual({ id: 1 });
    const r = s.safeParse({ goals: 1 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ["id"], message: "is required (NOT NULL, no default)" });
  });

  it("should leave out a generated column's value (the database computes it) and refuse unknown columns", () => {
    const s = deriveTableSchema(columns);
    const r = s.safeParse({ id: 1, gen: 2 });
    expect(r.success).toBe(true);
    expect(r.data?.gen).toBeUndefined();
    expect(s.safeParse({ id: 1, other: 2 }).success).toBe(false);
  });
});

describe("compileTableValidator", () => {
  const columns = [
    column("int4", { name: "id", nullable: false }),
    column("int2", { name: "goals", nullable: false, hasDefault: true }),
    column("numeric", { name: "rating", numericPrecision: 4, numericScale: 2 }),
    column("text", { name: "note" }),
    column("int4", { name: "gen", isGenerated: true }),
  ];
  const rows: Record<string, unknown>[] = [
    { id: 1 },
    { goals: 1 },
    { id: 1, gen: 2 },
    { id: 1, other: 2 },
    { id: "9", rating: 7.25, note: null },
    { id: 1, rating: 123.456 },
    { id: 2 ** 40 },
    { id: null },
  ];

  it("should report each generated value it leaves out to its callback", () => {
    const seen: string[] = [];
    const compiled = compileTableValidator(columns, (c) => seen.push(c));
    expect(compiled({ id: 1, gen: 2 })).toEqual({ id: 1 });
    expect(compiled({ id: 2 })).toEqual({ id: 2 });
    expect(seen).toEqual(["gen"]);
  });

  it("should agree with the derived zod schema on every row: same output, same column, same message", () => {
    const compiled = compileTableValidator(columns);
    const schema = deriveTableSchema(columns);
    for (const row of rows) {
      const c = compiled(row);
      const z = schema.safeParse(row);
      if (c instanceof RowProblem) {
        expect(z.success, JSON.stringify(row)).toBe(false);
        const issue = z.error?.issues[0];
        if (issue?.path.length) {
          expect(issue.path[0]).toBe(c.column);
          expect(issue.message).toBe(c.message);
        }
      } else {
        expect(z.success, JSON.stringify(row)).toBe(true);
        expect(c).toEqual(z.data);
      }
    }
  });
});
