import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { resolveRelease } from "../../src/release/resolve-release.js";
import { prismaClient } from "../fixtures/core/kit.js";

const config = parseConfig(
  { client: prismaClient, releasesDir: "rel", releases: { listed: { tables: [{ model: "League", file: "l.json" }] } } },
  "/project",
);
const manifest = (tables: unknown) =>
  JSON.stringify({
    format: "atomic-etl.release/1",
    name: "s",
    kind: "sample",
    createdAt: "2026-01-01T00:00:00Z",
    tool: { name: "atomic-etl", version: "0.1.0" },
    source: { database: "app", environment: "production", serverVersion: "15", standby: false, schema: "public" },
    snapshot: { id: null, lsn: "0/1", txidSnapshot: "1:1:", time: "2026-01-01T00:00:00Z" },
    plan: { mode: "keyset", workers: 1, why: [] },
    selection: {},
    masks: [],
    tables,
    closure: [],
    durationMs: 1,
  });

describe("resolveRelease", () => {
  it("should prefer the config's release", () => {
    expect(resolveRelease(config, "listed", () => manifest([]))?.tables[0]).toMatchObject({ model: "League", file: "l.json" });
  });

  it("should read an unlisted release from <releasesDir>/<name>/release.json as column-keyed tables", () => {
    const seen: string[] = [];
    const r = resolveRelease(config, "laptop", (f) => {
      seen.push(f);
      return manifest([{ table: "players", model: "Player", file: "players.ndjson", keys: "columns", rows: 2, sha256: "a".repeat(64) }]);
    });
    expect(seen).toEqual(["/project/rel/laptop/release.json"]);
    expect(r?.tables).toEqual([expect.objectContaining({ table: "players", file: "players.ndjson", keys: "columns" })]);
  });

  it("should let a table the manifest says was written empty empty its target, and no other", () => {
    const r = resolveRelease(config, "laptop", () =>
      manifest([
        { table: "players", model: "Player", file: "players.ndjson", keys: "columns", rows: 2, sha256: "a".repeat(64) },
        { table: "tickets", model: null, file: "tickets.ndjson", keys: "columns", rows: 0, sha256: "b".repeat(64) },
      ]),
    );
    expect(r?.tables.map((t) => [t.table, t.allowEmpty])).toEqual([
      ["players", false],
      ["tickets", true],
    ]);
  });

  it("should return undefined when there is no manifest, and never look outside releasesDir", () => {
    expect(resolveRelease(config, "missing", () => null)).toBeUndefined();
    expect(resolveRelease(config, "../etc", () => manifest([]))).toBeUndefined();
  });

  it("should refuse a manifest that is not one, naming the file", () => {
    expect(() => resolveRelease(config, "broken", () => "{")).toThrow(/rel\/broken\/release.json: not a release manifest/);
    expect(() => resolveRelease(config, "empty", () => manifest([]))).toThrow(/tables/);
  });
});
