import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../fixtures/core/kit.js";
import { loadInto, oldStyleClient, planOf, type RecordText, releaseText, rowTexts, tempFile, toolClient, TYPES_SQL } from "./support.js";
import pg from "pg";

const j = (v: unknown) => JSON.stringify(v);
/** Text without NUL (the validator refuses it) or lone surrogates, full unicode, plus COPY's special characters. */
const text = fc
  .oneof(
    fc.string({ unit: "grapheme", maxLength: 12 }),
    fc.constantFrom("", "\\", "\\N", "\\.", "\t", "\n", "\r\n", "a\tb\nc\rd\\e", '"', "{}", "{a,b}", "NULL", " x ", "é𝄞中", ","),
  )
  .filter((s) => !s.includes("\u0000"));
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 6 });
const frag = (a: fc.Arbitrary<unknown>) => maybe(a).map(j);
const decimal = fc
  .tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.nat({ max: 12 }), fc.boolean())
  .map(([m, scale, trailing]) => {
    const s = (m < 0n ? -m : m).toString().padStart(scale + 1, "0");
    const dot = scale ? `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}` : s;
    return `${m < 0n ? "-" : ""}${dot}${trailing && scale ? "0" : ""}`;
  });
const double = fc.double({ noNaN: true, noDefaultInfinity: true });
const day = fc.date({ min: new Date("1000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true });
const micros = fc.nat({ max: 999_999 }).map((u) => `.${String(u).padStart(6, "0")}`);
const zone = fc.constantFrom("Z", "+00:00", "+05:30", "-08:00");
const wall = fc.tuple(day, micros).map(([d, u]) => d.toISOString().slice(0, 19) + u);
const tstz = fc.tuple(wall, zone).map(([w, z]) => w + z);
const moods = fc.constantFrom("sad", "ok", 'wei"rd', "with space", "back\\slash", "NULL", "tab\tin");
/** json/jsonb as raw text: whitespace, digits beyond a double, escapes, all kept as the file has them. */
const jsonText = fc
  .oneof(
    fc.jsonValue({ maxDepth: 3, stringUnit: "grapheme" }).map((v) => j(v)),
    fc.constantFrom(
      '{"n": 9007199254740993, "x": 1.50}',
      ' { "a" : [ ] , "b":{} } ',
      '"tab\\tq\\"uote\\\\"',
      '"\\u00e9\\n"',
      "[1e400, -0.0, 1E-7]",
      "12345678901234567890.000000000001",
      "null",
      "true",
    ),
  )
  .filter((s) => !s.includes("\\u0000") && j(JSON.parse(s)) !== undefined);

const record: fc.Arbitrary<RecordText> = fc.record(
  {
    n: maybe(fc.oneof(decimal.map(j), decimal, fc.integer().map(String), double.map(j))).map((v) => v ?? "null"),
    n2: frag(
      fc
        .tuple(fc.integer({ min: -99_999_999, max: 99_999_999 }), fc.nat({ max: 9999 }))
        .map(([i, f]) => `${i}.${String(f).padStart(4, "0")}`),
    ),
    i8: frag(fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), fc.maxSafeInteger())),
    i2: frag(fc.integer({ min: -32768, max: 32767 })),
    f8: frag(double),
    f4: frag(fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-3e38), max: Math.fround(3e38) })),
    b: frag(fc.boolean()),
    ts: frag(fc.oneof(wall, tstz)),
    tstz: frag(tstz),
    d: frag(day.map((d) => d.toISOString().slice(0, 10))),
    j: maybe(jsonText).map((v) => v ?? "null"),
    jb: maybe(jsonText).map((v) => v ?? "null"),
    e: frag(moods),
    ta: frag(fc.array(maybe(text), { maxLength: 5 })),
    ia: frag(fc.array(maybe(fc.integer()), { maxLength: 5 })),
    na: frag(fc.array(maybe(fc.oneof(decimal, fc.integer())), { maxLength: 4 })),
    ea: frag(fc.array(maybe(moods), { maxLength: 4 })),
    ba: frag(fc.array(maybe(fc.boolean()), { maxLength: 4 })),
    tsa: frag(fc.array(maybe(tstz), { maxLength: 3 })),
    by: frag(
      fc.oneof(
        fc.uint8Array({ maxLength: 12 }).map((b) => `\\x${Buffer.from(b).toString("hex")}`),
        fc.stringMatching(/^[a-zA-Z0-9 ]{0,8}$/),
      ),
    ),
    t: frag(text),
    vc: frag(text.filter((s) => [...s].length <= 20)),
    u: frag(fc.uuid()),
    iv: frag(fc.constantFrom("1 day", "P1Y2M3DT4H5M6S", "-00:00:01.5", "3 mons 2 days 01:00:00")),
    dflt: frag(text),
  },
  { requiredKeys: [] },
);

const db = useTestDatabase({ migrate: false, scope: "suite" });
beforeAll(async () => {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query(TYPES_SQL);
  await c.end();
});

async function truncate(): Promise<void> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query("TRUNCATE all_types, all_types_insert");
  await c.end();
}

describe("COPY text encoding", () => {
  it("should store any valid record exactly as INSERT … SELECT stores it, for every column type", async () => {
    const copy = await toolClient(db.url);
    const insert = await toolClient(db.url, oldStyleClient);
    expect([copy.copy, insert.copy]).toEqual([true, false]);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 9 }), async (records, batchSize) => {
          await truncate();
          const { file, cleanup } = await tempFile(releaseText(records));
          try {
            const plan = await planOf(db.url, file, batchSize);
            const byCopy = await loadInto(copy.client, plan, "all_types");
            const byInsert = await loadInto(insert.client, plan, "all_types_insert");
            expect([byCopy.via, byInsert.via]).toEqual(["copy", "insert"]);
            expect(byCopy.rowsInserted).toBe(records.length);
            expect(await rowTexts(db.url, "all_types")).toEqual(await rowTexts(db.url, "all_types_insert"));
          } finally {
            await cleanup();
          }
        }),
        { numRuns: 60 },
      );
    } finally {
      await copy.close();
      await insert.close();
    }
  });

  it("should keep the digits and text of hand-picked hard values", async () => {
    await truncate();
    const records: RecordText[] = [
      {
        n: '"123456789012345678901234567890.123456789012345678900"',
        i8: '"9223372036854775807"',
        j: '{"n": 9007199254740993, "x": 1.50}',
        jb: '{"n": 9007199254740993}',
        t: j("back\\slash\ttab\nnew\rcr é 𝄞"),
        ta: j(["a,b", 'q"uote', "back\\slash", "", null, "NULL", "{x}", "tab\tnl\n"]),
        by: j("\\x00ff10"),
        ts: j("2024-02-29T23:59:59.999999"),
        tstz: j("2024-02-29T23:59:59.999999+01:00"),
      },
      // a zone on a timestamp without one: UTC wall time, microseconds kept, past year 9999
      { t: j(""), ta: j([]), j: '""', e: j("NULL"), ea: j(["NULL", null]), ts: j("9999-12-31T16:00:00.123456-08:00") },
      { t: "null", dflt: "null" },
      {},
    ];
    const { file, cleanup } = await tempFile(releaseText(records));
    const copy = await toolClient(db.url);
    try {
      const plan = await planOf(db.url, file, 10);
      expect((await loadInto(copy.client, plan, "all_types")).via).toBe("copy");
    } finally {
      await copy.close();
      await cleanup();
    }
    const rows = await rowTexts(db.url, "all_types");
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query("SET TimeZone = 'UTC'");
    const r = await c.query(
      "SELECT n::text, i8::text, j::text, jb::text, t, ta, encode(by, 'hex') AS by, ts::text, tstz::text, e::text, ea::text[], dflt, (t = '') AS empty FROM all_types ORDER BY id",
    );
    await c.end();
    expect(rows).toHaveLength(4);
    expect(r.rows[1].ts).toBe("10000-01-01 00:00:00.123456");
    expect(r.rows[0]).toMatchObject({
      n: "123456789012345678901234567890.123456789012345678900",
      i8: "9223372036854775807",
      j: '{"n": 9007199254740993, "x": 1.50}',
      jb: '{"n": 9007199254740993}',
      t: "back\\slash\ttab\nnew\rcr é 𝄞",
      ta: ["a,b", 'q"uote', "back\\slash", "", null, "NULL", "{x}", "tab\tnl\n"],
      by: "00ff10",
      ts: "2024-02-29 23:59:59.999999",
      tstz: "2024-02-29 22:59:59.999999+00",
      dflt: "the default",
    });
    expect(r.rows[1]).toMatchObject({ t: "", empty: true, ta: [], j: '""', e: "NULL", ea: ["NULL", null], dflt: "the default" });
    expect(r.rows[2]).toMatchObject({ t: null, empty: null, dflt: null });
    expect(r.rows[3]).toMatchObject({ t: null, dflt: "the default" });
  });
});
