import { describe, expect, it } from "vitest";
import type { ForeignKeyInfo, TableInfo } from "../../src/sql/catalog.js";
import { childIds, copyTableText, parentIds, rootIds, rowsByIds } from "../../src/sql/sample-statements.js";
import { importSnapshot } from "../../src/sql/source-snapshot.js";
import { packCtid, RowSet, unpackCtid } from "../../src/sample/row-set.js";
import { parseLimitArg } from "../../src/sample/plan.js";

const col = (name: string, extra: Partial<TableInfo["columns"][number]> = {}) => ({
  name,
  type: "int4",
  typeKind: "b",
  isArray: false,
  formatted: "integer",
  nullable: true,
  hasDefault: false,
  isIdentity: false,
  isGenerated: false,
  filledByTrigger: false,
  maxLength: null,
  numericPrecision: null,
  numericScale: null,
  enumValues: null,
  sequence: null,
  ...extra,
});
const table = (name: string, cols: string[], pk: string[] = []): TableInfo => ({
  schema: "s",
  name,
  columns: cols.map((c) => col(c, c === "total" ? { isGenerated: true } : {})),
  primaryKey: pk,
  uniqueKeys: [],
  foreignKeys: [],
  referencedBy: [],
  partitioned: false,
  partitions: [],
  partitionKey: [],
});
const parent = table('we"ird', ["a", "b"], ["a", "b"]);
const child = table("child", ["id", "x", "y", "total"], ["id"]);
const fk: ForeignKeyInfo = {
  name: "child_fk",
  table: { schema: "s", name: "child" },
  columns: ["x", "y"],
  references: { schema: "s", name: 'we"ird' },
  referencedColumns: ["a", "b"],
  onDelete: "a",
  deferrable: false,
};

describe("sample SQL builders", () => {
  it("should join a composite FK on every column pair, quoting hostile names, with the ids as one parameter", () => {
    expect(parentIds(fk, child, parent, ["(0,1)", "(3,4)"])).toEqual({
      text: 'SELECT DISTINCT p.ctid::text AS id FROM ONLY "s"."we""ird" p JOIN ONLY "s"."child" c ON p."a" = c."x" AND p."b" = c."y" WHERE c.ctid = ANY($1::tid[]) AND c.ctid >= $2::tid AND c.ctid <= $3::tid',
      values: [["(0,1)", "(3,4)"], "(0,1)", "(3,4)"],
    });
    expect(parentIds(fk, child, parent, null).values).toEqual([]);
  });

  it("should cap children per parent with a lateral LIMIT parameter, the batch bounded by a TID range", () => {
    expect(childIds(fk, child, parent, ["(0,2)"], 5)).toEqual({
      text: 'SELECT x.id FROM ONLY "s"."we""ird" p CROSS JOIN LATERAL (SELECT c.ctid::text AS id FROM ONLY "s"."child" c WHERE p."a" = c."x" AND p."b" = c."y" ORDER BY c.ctid LIMIT $4) x WHERE p.ctid = ANY($1::tid[]) AND p.ctid >= $2::tid AND p.ctid <= $3::tid',
      values: [["(0,2)"], "(0,2)", "(0,2)", 5],
    });
  });

  it("should bind limits, percentages and seeds, and order a row limit by the primary key", () => {
    expect(rootIds({ table: child, where: "x > 1", limit: { rows: 10 } })).toEqual({
      text: 'SELECT t.ctid::text AS id FROM ONLY "s"."child" t WHERE (x > 1) ORDER BY t."id" LIMIT $1',
      values: [10],
    });
    expect(rootIds({ table: { ...child, partitioned: true }, where: null, limit: { percent: 2.5, seed: 7 } })).toEqual({
      text: 'SELECT t.ctid::text AS id FROM "s"."child" t TABLESAMPLE BERNOULLI ($1) REPEATABLE ($2)',
      values: [2.5, 7],
    });
  });

  it("should leave generated columns out of the rows it reads", () => {
    expect(rowsByIds(child, ["(1,1)"]).text).toBe(
      'SELECT row_to_json(x)::text AS j FROM (SELECT t."id", t."x", t."y" FROM ONLY "s"."child" t WHERE t.ctid = ANY($1::tid[]) AND t.ctid >= $2::tid AND t.ctid <= $3::tid) x',
    );
    expect(copyTableText(child, { fromBlock: 10, toBlock: null }, (c) => c.name !== "y")).toEqual({
      text: `COPY (SELECT t."id", t."x", to_json(t."y")::text FROM ONLY "s"."child" t WHERE t.ctid >= '(10,0)'::tid) TO STDOUT`,
      values: [],
    });
    expect(() => copyTableText(child, { fromBlock: -1, toBlock: 2 }, () => true)).toThrow(/not a block number/);
  });

  it("should inline only a well-formed snapshot id", () => {
    expect(importSnapshot("00000003-0000001B-1")).toEqual({ text: "SET TRANSACTION SNAPSHOT '00000003-0000001B-1'", values: [] });
    expect(() => importSnapshot("x'; DROP TABLE t; --")).toThrow(/not a snapshot id/);
  });
});

describe("row ids and limits", () => {
  it("should pack ctids losslessly and hand them out in physical order", () => {
    expect(unpackCtid(packCtid("(4294967295,2047)"))).toEqual({ leaf: 0, ctid: "(4294967295,2047)" });
    expect(unpackCtid(packCtid("(4294967295,2047)", 1023))).toEqual({ leaf: 1023, ctid: "(4294967295,2047)" });
    expect(Number.isSafeInteger(packCtid("(4294967295,2047)", 1023))).toBe(true);
    expect(() => packCtid("(1,2048)")).toThrow(/out of range/);
    expect(() => packCtid("(1,1)", 1024)).toThrow(/out of range/);
    const s = new RowSet();
    expect(s.addAll(["(2,1)", "(0,7)", "(2,1)"], "root")).toBe(2);
    expect(s.take(10)).toEqual(["(0,7)", "(2,1)"]);
    expect([...s.batches(1)]).toEqual([
      { leaf: 0, ids: ["(0,7)"] },
      { leaf: 0, ids: ["(2,1)"] },
    ]);
    expect(s.pulledBy.get("root")).toBe(2);
    // a partition's oid gets a leaf index on first sight
    const p = new RowSet();
    expect([p.leafOf(16500), p.leafOf(16400), p.leafOf(16500)]).toEqual([0, 1, 0]);
    expect([p.oidOf(0), p.oidOf(1), p.oidOf(2)]).toEqual([16500, 16400, undefined]);
    expect(() => packCtid("(1,1)", Number.NaN)).toThrow(/out of range/);
    // the same ctid in two partitions is two rows; a batch never spans two leaves
    expect(s.addAll(["(0,7)", "(0,1)"], "parent via x", { leaf: 2 })).toBe(2);
    expect([...s.batches(10)]).toEqual([
      { leaf: 0, ids: ["(0,7)", "(2,1)"] },
      { leaf: 2, ids: ["(0,1)", "(0,7)"] },
    ]);
  });

  it("should parse --limit rules and refuse anything else", () => {
    expect(parseLimitArg("players=1000")).toEqual(["players", 1000]);
    expect(parseLimitArg("*=10%")).toEqual(["*", "10%"]);
    expect(parseLimitArg("Team=all")).toEqual(["Team", "all"]);
    expect(() => parseLimitArg("players=; DROP")).toThrow(/--limit takes/);
  });
});
