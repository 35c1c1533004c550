import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ColumnInfo } from "../../src/sql/catalog.js";
import { columnMasker, keyedHash } from "../../src/sample/maskers.js";
import { SECRET } from "./support.js";

const column = (maxLength: number | null): ColumnInfo => ({
  name: "body",
  type: maxLength === null ? "text" : "varchar",
  typeKind: "b",
  isArray: false,
  formatted: maxLength === null ? "text" : `character varying(${maxLength})`,
  nullable: true,
  hasDefault: false,
  isIdentity: false,
  isGenerated: false,
  filledByTrigger: false,
  maxLength,
  numericPrecision: null,
  numericScale: null,
  enumValues: null,
  sequence: null,
});

const ctx = { table: "support_tickets", hash: keyedHash(SECRET) };

describe("the text mask", () => {
  it("should keep every value's length exactly, also where a cut falls between two words", () => {
    const text = columnMasker("text", column(null), ctx);
    // "EPL" became "do" (the cut "do " lost its space), and 65 of 400 ticket bodies came out one short
    expect(text("EPL")).toHaveLength(3);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 400, unit: "grapheme" }), (v) => {
        const out = text(v) as string;
        expect(out).toHaveLength([...v].length);
        expect(out).not.toMatch(/^ | $/);
      }),
      { numRuns: 2000 },
    );
  });

  it("should stay within varchar(n) and be the same for the same input", () => {
    const text = columnMasker("text", column(10), ctx);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), (v) => {
        const out = text(v) as string;
        expect(out.length).toBe(Math.min(10, [...v].length));
        expect(text(v)).toBe(out);
      }),
    );
    expect(text(null)).toBeNull();
  });
});
