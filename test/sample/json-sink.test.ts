import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { JsonSink } from "../../src/sample/json-sink.js";

const dir = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-json-sink-"));
afterAll(() => rm(dir, { recursive: true, force: true }));
let n = 0;
const file = (ext: string) => path.join(dir, `f${n++}.${ext}`);

async function write(array: boolean, blocks: string[][]): Promise<{ text: string; sink: JsonSink; sha256: string }> {
  const sink = new JsonSink(file(array ? "json" : "ndjson"), array);
  await sink.open();
  for (const b of blocks) await sink.lines(b);
  const sha256 = await sink.close();
  return { text: await readFile(sink.path, "utf8"), sink, sha256 };
}

describe("JsonSink", () => {
  // rows of 600k characters: a block of three is cut into several writes (about 1 MB each)
  const wide = (i: number) => JSON.stringify({ id: i, pad: "x".repeat(600_000) });

  it("should frame a JSON array across blocks and writes, with rows, bytes and sha256 of the file", async () => {
    const { text, sink, sha256 } = await write(true, [[wide(1), wide(2), wide(3)], [], ['{"id":4}']]);
    expect((JSON.parse(text) as { id: number }[]).map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(text.startsWith("[\n{")).toBe(true);
    expect(text.endsWith("}\n]\n")).toBe(true);
    expect(sink.rows).toBe(4);
    expect(sink.bytes).toBe(Buffer.byteLength(text));
    expect(sha256).toBe(createHash("sha256").update(text).digest("hex"));
  });

  it("should write NDJSON one row per line across writes, a raw line break inside a row as a space", async () => {
    const { text, sink } = await write(false, [[wide(1), '{"id":2,"j":{"a":\n1}}', wide(3)]]);
    const lines = text.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.map((l) => (JSON.parse(l) as { id: number }).id)).toEqual([1, 2, 3]);
    expect(lines[1]).toBe('{"id":2,"j":{"a": 1}}');
    expect(sink.rows).toBe(3);
  });

  it("should write an empty array and an empty NDJSON file", async () => {
    expect((await write(true, [])).text).toBe("[\n]\n");
    expect((await write(false, [[]])).text).toBe("");
  });

  it("should reject close() when the file stream failed, instead of waiting for ever", async () => {
    const sink = new JsonSink(file("ndjson"), false);
    await sink.open();
    await sink.lines(['{"id":1}']);
    (sink as unknown as { out: NodeJS.WritableStream & { destroy(e: Error): void } }).out.destroy(
      new Error("ENOSPC: no space left on device"),
    );
    await new Promise((r) => setImmediate(r));
    await expect(sink.close()).rejects.toThrow(/ENOSPC/);
  }, 5_000);
});
