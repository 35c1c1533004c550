/**
 * json/jsonb values reach PostgreSQL digit-exact: the file's own text of the value is sent,
 * never a JSON.parse → JSON.stringify round trip through doubles. Asserted on the stored
 * text, for json and jsonb columns, in field-keyed and column-keyed files.
 */
import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { nextRelease, RawJson, sql, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

type Rec = Record<string, unknown>;
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Values as written in the file; each would lose digits through a double. */
const VALUES: Record<number, string> = {
  100: '{"tag": 9007199254740993, "id": 12345678901234567890, "neg": -98765432109876543210}',
  101: '{"tiny": 1.5e-7, "small": -2.50E-12, "exact": 0.10000000000000000001, "scale": 1.50}',
  110: '[[1, [12345678901234567890123]], {"deep": [[9007199254740993.25]]}, 1e400]',
  111: "12345678901234567890",
  200: '{"text": "caf\\u00e9 \\"quoted\\"", "list": [true, null, 7.0]}',
};

function release(keys: "fields" | "columns"): Record<string, Rec[]> {
  const files = nextRelease();
  files["players.json"] = (files["players.json"] as Rec[]).map((p) => {
    const raw = VALUES[p.id as number];
    const rec: Rec = raw === undefined ? p : { ...p, attributes: new RawJson(raw) };
    return keys === "fields" ? rec : Object.fromEntries(Object.entries(rec).map(([k, v]) => [snake(k), v]));
  });
  return files;
}

async function storedAttributes(): Promise<Record<number, string | null>> {
  const rows = await sql<{ id: number; a: string | null }>(db.url, "SELECT id, attributes::text AS a FROM players ORDER BY id");
  return Object.fromEntries(rows.map((r) => [r.id, r.a]));
}

describe("json and jsonb values", () => {
  it.each([
    ["jsonb", "fields"],
    ["jsonb", "columns"],
    ["json", "fields"],
    ["json", "columns"],
  ] as const)("should store every digit of numbers in a %s column from a %s-keyed file", async (type, keys) => {
    if (type === "json") await sql(db.url, "ALTER TABLE players ALTER COLUMN attributes TYPE json USING attributes::json");
    await ws.writeRelease("r", release(keys));

    const report = await new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({ release: "r", url: db.url, backup: false });

    expect(report.outcome).toBe("committed");
    expect(report.tables.find((t) => t.table === "players")?.keyMode).toBe(keys);
    const stored = await storedAttributes();
    for (const [id, raw] of Object.entries(VALUES)) {
      // json keeps the file's text as it is; jsonb stores what PostgreSQL parses from that exact text
      const [expected] = await sql<{ t: string }>(db.url, { text: `SELECT $1::${type}::text AS t`, values: [raw] });
      expect(stored[Number(id)], `player ${id}`).toBe(expected?.t);
    }
    if (type === "json") expect(stored[100]).toBe(VALUES[100]);
    expect(stored[100]).toContain("9007199254740993");
    expect(stored[100]).toContain("12345678901234567890");
    expect(stored[101]).toContain(type === "json" ? "1.5e-7" : "0.00000015");
    expect(stored[101]).toContain("1.50");
    expect(stored[110]).toContain("12345678901234567890123");
    // a long number that is the whole value stays a number, not a string
    expect(stored[111]).toBe("12345678901234567890");
    expect(stored[210]).toBeNull();
  });
});
