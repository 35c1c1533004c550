import { describe, expect, it } from "vitest";
import { columnInfo } from "../fixtures/catalog.js";
import type { BackupManifest } from "../../src/backup/manifest.js";
import { assertSchemaCompatible, schemaDifferences } from "../../src/backup/schema-check.js";
import type { ColumnInfo, TableInfo } from "../../src/sql/catalog.js";

const column = (name: string, formatted: string): ColumnInfo => columnInfo(name, formatted);

const table = (name: string, columns: ColumnInfo[]): TableInfo => ({
  schema: "public",
  name,
  columns,
  primaryKey: [],
  uniqueKeys: [],
  foreignKeys: [],
  referencedBy: [],
  partitioned: false,
  partitions: [],
  partitionKey: [],
});

const manifest = (columns: { name: string; type: string }[]) =>
  ({ id: "b1", schema: "public", tables: { teams: { rows: 1, hash: "1", columns } } }) as unknown as BackupManifest;

const BACKUP = [
  { name: "id", type: "integer" },
  { name: "name", type: "text" },
];

describe("schemaDifferences", () => {
  it("should find nothing when the columns are the backup's", () => {
    expect(
      schemaDifferences(manifest(BACKUP), new Map([["teams", table("teams", [column("id", "integer"), column("name", "text")])]])),
    ).toEqual([]);
  });

  it("should name added, dropped, retyped and reordered columns", () => {
    const m = manifest(BACKUP);
    expect(
      schemaDifferences(m, new Map([["teams", table("teams", [column("id", "integer"), column("name", "text"), column("city", "text")])]])),
    ).toEqual(["teams: now has column city (text), the backup has not"]);
    expect(schemaDifferences(m, new Map([["teams", table("teams", [column("id", "integer")])]]))).toEqual([
      "teams: column name (text) of the backup no longer exists",
    ]);
    expect(schemaDifferences(m, new Map([["teams", table("teams", [column("id", "bigint"), column("name", "text")])]]))).toEqual([
      "teams: column id is now bigint, was integer",
    ]);
    expect(schemaDifferences(m, new Map([["teams", table("teams", [column("name", "text"), column("id", "integer")])]]))).toEqual([
      "teams: columns are in a different order (now name, id)",
    ]);
    expect(schemaDifferences(m, new Map())).toEqual(["teams: no longer exists"]);
  });

  it("should throw RESTORE_SCHEMA_MISMATCH listing every difference, touching nothing", () => {
    expect(() => assertSchemaCompatible(manifest(BACKUP), new Map())).toThrow(
      expect.objectContaining({ code: "RESTORE_SCHEMA_MISMATCH", data: "untouched" }),
    );
  });
});
