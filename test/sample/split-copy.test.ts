import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pino from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { splitBlocks } from "../../src/sample/copy-parts.js";
import { useTestProject } from "../fixtures/core/kit.js";
import { runSql } from "../support/postgres.js";
import { readRows, runExport, runSample, sampleConfig } from "./support.js";

const { db: source, ws } = useTestProject({ migrate: false, scope: "suite" });
beforeAll(async () => {
  // ~2,600 heap pages: big enough to be split across the workers
  await runSql(
    source.url,
    `CREATE TABLE big (id int PRIMARY KEY, pad text NOT NULL, note text)`,
    `INSERT INTO big SELECT i, repeat(md5(i::text), 3), CASE WHEN i % 7 = 0 THEN E'tab\\there "quoted" \\\\ back' END FROM generate_series(1, 150000) i`,
    // json nested in an array keeps its own text, line breaks included (to_json passes it through)
    // (~2,900 pages with its padding: split too)
    `CREATE TABLE docs (id int PRIMARY KEY, parts json[], pad text)`,
    `INSERT INTO docs SELECT i, ARRAY[E'{"a":\\n  [1, 2.50]}'::json, '"x"'::json], repeat('p', 300) FROM generate_series(1, 60000) i`,
    // a split whose middle block range holds no live row (deleted, not vacuumed): an empty part
    `CREATE TABLE holes (id int PRIMARY KEY, pad text NOT NULL)`,
    `INSERT INTO holes SELECT i, repeat(md5(i::text), 3) FROM generate_series(1, 150000) i`,
    `DELETE FROM holes WHERE id BETWEEN 40001 AND 110000`,
  );
});

describe("a big table taken whole, split across the workers", () => {
  it("should split a heap into contiguous block ranges, the last one open", () => {
    expect(splitBlocks(100, 3)).toEqual([{ index: 0, fromBlock: 0, toBlock: null }]);
    expect(splitBlocks(3000, 3)).toEqual([
      { index: 0, fromBlock: 0, toBlock: 1000 },
      { index: 1, fromBlock: 1000, toBlock: 2000 },
      { index: 2, fromBlock: 2000, toBlock: null },
    ]);
  });

  it("should write the same bytes with three connections as with one", async () => {
    const config = sampleConfig(ws, {
      samples: { one: { tables: ["big"], limits: { big: "all" } }, three: { tables: ["big"], limits: { big: "all" } } },
    });
    const one = await runSample(config, source.url, { name: "one", jobs: 1 });
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const three = await runSample(config, source.url, { name: "three", jobs: 3, logger });
    expect(lines.find((l) => l.phase === "write")).toMatchObject({ table: "big", parts: 3, rows: 150000, durationMs: expect.any(Number) });
    expect((await readdir(three.dir)).sort()).toEqual(["big.ndjson", "release.json"]);
    expect(three.manifest.plan.workers).toBe(3);
    const t = (r: typeof one) => r.manifest.tables[0];
    expect(t(three)?.rows).toBe(150000);
    expect(t(three)?.sha256).toBe(t(one)?.sha256);
    const rows = await readRows(path.join(three.dir, "big.ndjson"));
    expect(new Set(rows.map((r) => r.id)).size).toBe(150000);
    expect(rows.find((r) => r.id === 7)?.note).toBe('tab\there "quoted" \\ back');
  });

  it("should join the parts of a JSON-array release file into one valid array, and keep a nested json value's line breaks", async () => {
    const config = sampleConfig(ws, {
      releases: {
        arr: {
          tables: [
            { table: "big", file: "big.json" },
            { table: "docs", file: "docs.json" },
          ],
        },
      },
    });
    const one = await runExport(config, source.url, "arr", { jobs: 1, out: path.join(ws.root, "arr-1") });
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const three = await runExport(config, source.url, "arr", { jobs: 3, out: path.join(ws.root, "arr-3"), logger });
    const parts = (table: string) => lines.find((l) => l.phase === "write" && l.table === table)?.parts;
    expect([parts("big"), parts("docs")]).toEqual([3, 3]);
    const t = (r: typeof one, name: string) => r.manifest.tables.find((x) => x.table === name);
    expect(t(three, "big")?.rows).toBe(150000);
    expect(t(three, "big")?.sha256).toBe(t(one, "big")?.sha256);
    const big = JSON.parse(await readFile(path.join(three.dir, "big.json"), "utf8")) as { id: number }[];
    expect(big.map((r) => r.id)).toEqual(Array.from({ length: 150000 }, (_, i) => i + 1));
    // the array file keeps the text; one record per element, none split at the line break
    const docsText = await readFile(path.join(one.dir, "docs.json"), "utf8");
    expect(docsText).toContain('{"a":\n  [1, 2.50]}');
    const docs = JSON.parse(docsText) as { id: number; parts: unknown[] }[];
    expect(docs).toHaveLength(60000);
    expect(docs[0]).toMatchObject({ id: 1, parts: [{ a: [1, 2.5] }, "x"] });
    expect(t(three, "docs")?.sha256).toBe(t(one, "docs")?.sha256);
  });

  it("should keep each row of an NDJSON file on one line when a nested json value has line breaks", async () => {
    const config = sampleConfig(ws, { samples: { nd: { tables: ["docs"], limits: { docs: "all" } } } });
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const r = await runSample(config, source.url, { name: "nd", jobs: 2, logger });
    expect(lines.find((l) => l.phase === "write" && l.table === "docs")?.parts).toBe(2);
    const text = await readFile(path.join(r.dir, "docs.ndjson"), "utf8");
    expect(text.split("\n").filter(Boolean)).toHaveLength(60000);
    expect((await readRows(path.join(r.dir, "docs.ndjson")))[0]).toMatchObject({ id: 1, parts: [{ a: [1, 2.5] }, "x"] });
  });

  it("should write a valid file when a part between two others holds no row", async () => {
    const config = sampleConfig(ws, { releases: { holes: { tables: [{ table: "holes", file: "holes.json" }] } } });
    const one = await runExport(config, source.url, "holes", { jobs: 1, out: path.join(ws.root, "holes-1") });
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "debug" }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const three = await runExport(config, source.url, "holes", { jobs: 3, out: path.join(ws.root, "holes-3"), logger });
    const partRows = lines
      .filter((l) => l.phase === "write" && l.table === "holes" && typeof l.part === "number")
      .map((l) => [l.part, l.rows]);
    expect(partRows.sort()).toContainEqual([1, 0]);
    const rows = JSON.parse(await readFile(path.join(three.dir, "holes.json"), "utf8")) as { id: number }[];
    expect(rows).toHaveLength(80000);
    expect(three.manifest.tables[0]).toMatchObject({ rows: 80000, sha256: one.manifest.tables[0]?.sha256 });
    expect((await readdir(three.dir)).sort()).toEqual(["holes.json", "release.json"]);
  });
});
