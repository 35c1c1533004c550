import { describe, expect, it } from "vitest";
import { columnInfo } from "../fixtures/catalog.js";
import type { ManifestTable } from "../../src/backup/manifest.js";
import { assertSchemaCompatible, schemaDifferences, type TableToCheck } from "../../src/backup/schema-check.js";
import type { QualifiedName } from "../../src/sql/quote.js";
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

const entry = (columns: { name: string; type: string }[], partitions: QualifiedName[] | null = null): ManifestTable => ({
  rows: 1,
  hash: "1",
  columns,
  partitions,
});

/** The backed-up `teams` next to what the database holds now (`now` undefined: the table is gone). */
const check = (backup: ManifestTable, now: TableInfo | undefined, partitionsNow: QualifiedName[] | null = null): TableToCheck[] => [
  { label: "teams", entry: backup, now, partitionsNow },
];

const BACKUP = [
  { name: "id", type: "integer" },
  { name: "name", type: "text" },
];

const p = (name: string): QualifiedName => ({ schema: "public", name });
const SAME = table("teams", [column("id", "integer"), column("name", "text")]);

describe("schemaDifferences", () => {
  it("should accept new partitions, and name a backed-up partition that is gone or a table no longer (or now) partitioned", () => {
    const parts = entry(BACKUP, [p("teams_a"), p("teams_b")]);
    expect(schemaDifferences(check(parts, SAME, [p("teams_a"), p("teams_b"), p("teams_c")]))).toEqual([]);
    expect(schemaDifferences(check(parts, SAME, [p("teams_a")]))).toEqual([
      "teams: partition public.teams_b, which holds rows in the backup, is no longer one of its partitions",
    ]);
    expect(schemaDifferences(check(parts, SAME, null))).toEqual(["teams: is no longer partitioned"]);
    expect(schemaDifferences(check(entry(BACKUP), SAME, []))).toEqual(["teams: is now partitioned, the backup's table was not"]);
  });

  it("should find nothing when the columns are the backup's", () => {
    expect(schemaDifferences(check(entry(BACKUP), table("teams", [column("id", "integer"), column("name", "text")])))).toEqual([]);
  });

  it("should name added, dropped, retyped and reordered columns", () => {
    const m = entry(BACKUP);
    expect(schemaDifferences(check(m, table("teams", [column("id", "integer"), column("name", "text"), column("city", "text")])))).toEqual([
      "teams: now has column city (text), the backup has not",
    ]);
    expect(schemaDifferences(check(m, table("teams", [column("id", "integer")])))).toEqual([
      "teams: column name (text) of the backup no longer exists",
    ]);
    expect(schemaDifferences(check(m, table("teams", [column("id", "bigint"), column("name", "text")])))).toEqual([
      "teams: column id is now bigint, was integer",
    ]);
    expect(schemaDifferences(check(m, table("teams", [column("name", "text"), column("id", "integer")])))).toEqual([
      "teams: columns are in a different order (now name, id)",
    ]);
    expect(schemaDifferences(check(m, undefined))).toEqual(["teams: no longer exists"]);
  });

  it("should throw RESTORE_SCHEMA_MISMATCH listing every difference, touching nothing", () => {
    expect(() => assertSchemaCompatible("b1", check(entry(BACKUP), undefined))).toThrow(
      expect.objectContaining({ code: "RESTORE_SCHEMA_MISMATCH", data: "untouched" }),
    );
  });
});
