import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtlError } from "../../src/errors.js";
import { formatOf, type RawBatch, readRecords } from "../../src/sources/read-records.js";

/** What JSON.parse makes of a nested 17-digit number: it is left to lose precision, as JSON says. */
const LOSSY = Number("12345678901234567");

let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-read-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(content: string | Buffer, ext = "json"): Promise<string> {
  const p = path.join(dir, `f${++n}.${ext}`);
  await writeFile(p, content);
  return p;
}

async function readAll(p: string, opts: Partial<Parameters<typeof readRecords>[1]> = {}): Promise<RawBatch[]> {
  const out: RawBatch[] = [];
  for await (const b of readRecords(p, { batchSize: 1000, ...opts })) out.push(b);
  return out;
}

async function readError(p: string, opts: Partial<Parameters<typeof readRecords>[1]> = {}): Promise<EtlError> {
  const e = await readAll(p, opts).then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(EtlError);
  return e as EtlError;
}

const records = Array.from({ length: 7 }, (_, i) => ({ id: i, text: `r${i} "quoted" \\ , ] }`, u: "日本🎉" }));

describe("readRecords (JSON arrays)", () => {
  it("should yield batches of the batch size with the index of their first record", async () => {
    const p = await file(JSON.stringify(records, null, 2));
    const batches = await readAll(p, { batchSize: 3 });
    expect(batches.map((b) => [b.firstIndex, b.records.length])).toEqual([
      [0, 3],
      [3, 3],
      [6, 1],
    ]);
    expect(batches.flatMap((b) => b.records)).toEqual(records);
  });

  it("should close a batch early once its records' text reaches maxBatchBytes (wide rows)", async () => {
    const wide = [{ id: 0, blob: "x".repeat(100) }, { id: 1 }, { id: 2, blob: "y".repeat(100) }, { id: 3 }, { id: 4 }];
    for (const format of ["json", "ndjson"] as const) {
      const p = await file(
        format === "json" ? JSON.stringify(wide) : wide.map((r) => JSON.stringify(r)).join("\n"),
        format === "json" ? "json" : "ndjson",
      );
      const batches = await readAll(p, { batchSize: 3, maxBatchBytes: 100 });
      // [0] alone passes 100 chars; [1, 2] pass it together; [3, 4] end the file
      expect(batches.map((b) => [b.firstIndex, b.records.length])).toEqual([
        [0, 1],
        [1, 2],
        [3, 2],
      ]);
      expect(batches.flatMap((b) => b.records)).toEqual(wide);
    }
  });

  it("should read the same records when the stream delivers one byte at a time", async () => {
    const p = await file(JSON.stringify(records));
    const batches = await readAll(p, { batchSize: 2, highWaterMark: 1 });
    expect(batches.flatMap((b) => b.records)).toEqual(records);
  });

  it("should keep every digit of a long top-level number when it is split across chunks", async () => {
    const p = await file(`[{"id":1,"big":12345678901234567,"dec":123456789012.3456789,"nested":{"n":12345678901234567}}]`);
    const [b] = await readAll(p, { highWaterMark: 1 });
    expect(b?.records).toEqual([{ id: 1, big: "12345678901234567", dec: "123456789012.3456789", nested: { n: LOSSY } }]);
  });

  it("should count the bytes it reads", async () => {
    const text = JSON.stringify(records);
    const p = await file(text);
    let bytes = 0;
    await readAll(p, { onBytes: (x) => (bytes += x), highWaterMark: 16 });
    expect(bytes).toBe(Buffer.byteLength(text));
  });

  it("should read an empty array as no records", async () => {
    expect(await readAll(await file("[]\n"))).toEqual([]);
  });

  it("should refuse an empty file with INPUT_MALFORMED", async () => {
    const e = await readError(await file(""));
    expect(e.code).toBe("INPUT_MALFORMED");
    expect(e.message).toContain("empty");
  });

  it("should refuse a truncated file, naming the index of the first incomplete record", async () => {
    const text = JSON.stringify(records);
    const e = await readError(await file(text.slice(0, text.length - 10)), { label: "releases/x/players.json" });
    expect(e).toMatchObject({ code: "INPUT_MALFORMED", step: "load", file: "releases/x/players.json", record: 6 });
    expect(e.message).toContain("truncated");
  });

  it("should refuse a trailing comma", async () => {
    const e = await readError(await file('[{"a":1},{"a":2},]'));
    expect(e).toMatchObject({ code: "INPUT_MALFORMED", record: 2 });
    expect(e.message).toContain("trailing comma");
  });

  it("should refuse a document that is not an array", async () => {
    const e = await readError(await file('{"id":1}'));
    expect(e).toMatchObject({ code: "INPUT_MALFORMED", record: 0 });
    expect(e.message).toContain("expected a JSON array");
  });

  it("should refuse an element that is not valid JSON, naming its index", async () => {
    const e = await readError(await file('[{"a":1},{"a":tru},{"a":3}]'), { highWaterMark: 1 });
    expect(e).toMatchObject({ code: "INPUT_MALFORMED", record: 1 });
    expect(e.meta.snippet).toBe('{"a":tru}');
  });

  it("should refuse a missing file with INPUT_UNREADABLE", async () => {
    const e = await readError(path.join(dir, "nope.json"), { label: "nope.json" });
    expect(e).toMatchObject({ code: "INPUT_UNREADABLE", file: "nope.json" });
  });
});

describe("readRecords (input bytes)", () => {
  const ff = Buffer.from([0xff, 0xfe]);
  /** `[{"id":0,…},…]` with FF FE inside the string value of record `bad`. */
  const withBadBytes = (bad: number, n = 4) =>
    Buffer.concat([
      Buffer.from("[\n"),
      ...Array.from({ length: n }, (_, i) =>
        Buffer.concat([Buffer.from(`${i ? ",\n" : ""}{"id":${i},"name":"é${i}`), i === bad ? ff : Buffer.alloc(0), Buffer.from('"}')]),
      ),
      Buffer.from("\n]\n"),
    ]);

  it("should refuse invalid UTF-8 in a JSON array, naming the record and the byte offset, wherever the chunks split", async () => {
    const bytes = withBadBytes(2);
    const offset = bytes.indexOf(ff);
    const p = await file(bytes);
    for (const highWaterMark of [1, 2, 3, 7, offset, offset + 1, 1 << 16]) {
      const e = await readError(p, { label: "players.json", highWaterMark });
      expect(e, `highWaterMark ${highWaterMark}`).toMatchObject({ code: "INPUT_MALFORMED", file: "players.json", record: 2, step: "load" });
      expect(e.meta).toEqual({ offset, bytes: "FF" });
      expect(e.message).toContain(`invalid UTF-8 at byte ${offset} (record #2)`);
    }
  });

  it("should refuse invalid UTF-8 in NDJSON, naming the record, the line and the byte offset", async () => {
    const lines = ['{"id":0}', "", '{"id":1,"name":"a"}', "BAD", '{"id":3}'];
    const bytes = Buffer.concat(
      lines.flatMap((l) => [
        l === "BAD" ? Buffer.concat([Buffer.from('{"id":2,"name":"'), ff, Buffer.from('"}')]) : Buffer.from(l),
        Buffer.from("\n"),
      ]),
    );
    const p = await file(bytes, "ndjson");
    for (const highWaterMark of [1, 5, 1 << 16]) {
      const e = await readError(p, { highWaterMark });
      expect(e).toMatchObject({ code: "INPUT_MALFORMED", record: 2 });
      expect(e.meta.offset).toBe(bytes.indexOf(ff));
      expect(e.message).toContain("line 4");
    }
  });

  it("should refuse FF FE straddling the reader's 1 MiB chunk boundary in a large file, with its exact offset", async () => {
    const head = Buffer.from("[\n");
    const pad = (n: number) => Buffer.from(`{"id":${n},"name":"${"x".repeat(90)}"},\n`);
    const parts: Buffer[] = [head];
    let size = head.length;
    let n = 0;
    while (size < (1 << 20) - 200) {
      const p = pad(n++);
      parts.push(p);
      size += p.length;
    }
    // the record whose FF sits at the last byte of the first chunk and FE at the first of the next
    const prefix = Buffer.from(`{"id":${n},"name":"`);
    const fill = (1 << 20) - 1 - size - prefix.length;
    parts.push(prefix, Buffer.from("é".repeat(Math.floor(fill / 2)) + "y".repeat(fill % 2)), ff, Buffer.from('"}\n]\n'));
    const bytes = Buffer.concat(parts);
    expect(bytes.indexOf(ff)).toBe((1 << 20) - 1);
    const e = await readError(await file(bytes));
    expect(e).toMatchObject({ code: "INPUT_MALFORMED", record: n });
    expect(e.meta).toEqual({ offset: (1 << 20) - 1, bytes: "FF" });
  });

  it("should keep U+FFFD and every other well-formed character as it is", async () => {
    const recs = [{ id: 1, s: "\uFFFD é 日本 🎉 \uFEFF" }];
    expect((await readAll(await file(JSON.stringify(recs)), { highWaterMark: 1 })).flatMap((b) => b.records)).toEqual(recs);
  });

  it("should hand each record's text and the records that may repeat a key to the validator", async () => {
    const text = '[{"a":1,"a":2}, {"b":{"c":1}} ,{"s":"x"}]';
    for (const format of ["json", "ndjson"] as const) {
      const content = format === "json" ? text : '{"a":1,"a":2}\n{"b":{"c":1}}\n{"s":"x"}\n';
      const [b] = await readAll(await file(content, format));
      expect(b?.texts).toEqual(['{"a":1,"a":2}', '{"b":{"c":1}}', '{"s":"x"}']);
      expect(b?.mayRepeat).toEqual([0]);
      expect(b?.records).toEqual([{ a: 2 }, { b: { c: 1 } }, { s: "x" }]);
    }
  });
});

describe("readRecords (NDJSON)", () => {
  it("should tell NDJSON from JSON by the file extension", () => {
    expect([formatOf("a.ndjson"), formatOf("a.JSONL"), formatOf("a.json"), formatOf("a.txt")]).toEqual([
      "ndjson",
      "ndjson",
      "json",
      "json",
    ]);
  });

  it("should read one record per line, skipping blank lines, with CRLF and no final newline", async () => {
    const text = `\n${JSON.stringify(records[0])}\r\n\r\n   \n${JSON.stringify(records[1])}\n\n${JSON.stringify(records[2])}`;
    const p = await file(text, "ndjson");
    for (const hw of [1, 7, 1 << 16]) {
      const batches = await readAll(p, { batchSize: 2, highWaterMark: hw });
      expect(batches.map((b) => b.firstIndex)).toEqual([0, 2]);
      expect(batches.flatMap((b) => b.records)).toEqual(records.slice(0, 3));
    }
  });

  it("should read an empty NDJSON file as no records", async () => {
    expect(await readAll(await file("", "jsonl"))).toEqual([]);
    expect(await readAll(await file("\n\n", "jsonl"))).toEqual([]);
  });

  it("should name the record index and the physical line of a bad line", async () => {
    const e = await readError(await file(`{"a":1}\n\n{"a":2\n{"a":3}\n`, "ndjson"));
    expect(e).toMatchObject({ code: "INPUT_MALFORMED", record: 1 });
    expect(e.message).toContain("line 3");
  });

  it("should quote long top-level numbers and leave nested ones alone", async () => {
    const p = await file(`{"id":12345678901234567,"x":{"y":12345678901234567}}\n`, "ndjson");
    const [b] = await readAll(p);
    expect(b?.records).toEqual([{ id: "12345678901234567", x: { y: LOSSY } }]);
  });
});
