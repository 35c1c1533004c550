import { readdir } from "node:fs/promises";
import path from "node:path";
import pino from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { splitBlocks } from "../../src/sample/copy-parts.js";
import { useTestProject } from "../fixtures/core/kit.js";
import { runSql } from "../support/postgres.js";
import { readRows, runSample, sampleConfig } from "./support.js";

const { db: source, ws } = useTestProject({ migrate: false, scope: "suite" });
beforeAll(async () => {
  // ~2,600 heap pages: big enough to be split across the workers
  await runSql(
    source.url,
    `CREATE TABLE big (id int PRIMARY KEY, pad text NOT NULL, note text)`,
    `INSERT INTO big SELECT i, repeat(md5(i::text), 3), CASE WHEN i % 7 = 0 THEN E'tab\\there "quoted" \\\\ back' END FROM generate_series(1, 150000) i`,
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
    const config = sampleConfig(ws, { samples: { one: { limits: { big: "all" } }, three: { limits: { big: "all" } } } });
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
});
