import { describe, expect, it } from "vitest";
import { columnInfo } from "../fixtures/catalog.js";
import { EtlError } from "../../src/errors.js";
import type { ColumnInfo, TableInfo } from "../../src/sql/catalog.js";
import { RecordValidator } from "../../src/validation/record-validator.js";
import { detectKeyMode, mapModel } from "../../src/validation/table-mapping.js";

const col = (name: string, type = "int4", extra: Partial<ColumnInfo> = {}): ColumnInfo => columnInfo(name, type, extra);

const teams: TableInfo = {
  schema: "public",
  name: "teams",
  columns: [col("id", "int4", { nullable: false }), col("league_id", "int4", { nullable: false }), col("short_name", "text")],
  primaryKey: ["id"],
  uniqueKeys: [],
  foreignKeys: [],
  referencedBy: [],
  partitioned: false,
  partitions: [],
  partitionKey: [],
};

const dm = {
  models: {
    Team: {
      dbName: "teams",
      fields: [
        { name: "id", kind: "scalar", type: "Int" },
        { name: "leagueId", kind: "scalar", type: "Int", dbName: "league_id" },
        { name: "shortName", kind: "scalar", type: "String", dbName: "short_name" },
        { name: "league", kind: "object", type: "League" },
      ],
    },
    // a model whose field names collide with other columns' names
    Swap: {
      dbName: "teams",
      fields: [
        { name: "id", kind: "scalar", type: "Int" },
        { name: "league_id", kind: "scalar", type: "Int", dbName: "short_name" },
        { name: "short_name", kind: "scalar", type: "Int", dbName: "league_id" },
      ],
    },
  },
};

function thrown(fn: () => unknown): EtlError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EtlError);
    return e as EtlError;
  }
  throw new Error("expected a throw");
}

describe("mapModel", () => {
  it("should map scalar fields to their columns and the model to its table", () => {
    const m = mapModel({ model: "Team" }, dm);
    expect(m.table).toBe("teams");
    expect([...m.fieldToColumn]).toEqual([
      ["id", "id"],
      ["leagueId", "league_id"],
      ["shortName", "short_name"],
    ]);
  });

  it("should refuse an unknown model naming the known ones", () => {
    const e = thrown(() => mapModel({ model: "Tem" }, dm));
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.message).toContain("Team");
  });

  it("should take a table entry as it is, without a data model", () => {
    expect(mapModel({ table: "teams" }, undefined)).toMatchObject({ model: null, table: "teams" });
  });
});

describe("detectKeyMode", () => {
  const m = mapModel({ model: "Team" }, dm);

  it("should tell field names from column names", () => {
    expect(detectKeyMode(["id", "leagueId"], m, teams, "t.json")).toBe("fields");
    expect(detectKeyMode(["id", "league_id", "short_name"], m, teams, "t.json")).toBe("columns");
    expect(detectKeyMode(["id"], m, teams, "t.json")).toBe("fields");
  });

  it("should refuse a key that is neither, naming it", () => {
    const e = thrown(() => detectKeyMode(["id", "stadium"], m, teams, "t.json"));
    expect(e).toMatchObject({ code: "UNKNOWN_KEY", field: "stadium", record: 0, file: "t.json", table: "teams" });
  });

  it("should refuse keys that read differently as fields and as columns with AMBIGUOUS_KEYS", () => {
    const e = thrown(() => detectKeyMode(["id", "league_id"], mapModel({ model: "Swap" }, dm), teams, "t.json"));
    expect(e.code).toBe("AMBIGUOUS_KEYS");
    expect(e.next).toContain('keys: "fields"');
  });
});

describe("RecordValidator", () => {
  const m = mapModel({ model: "Team" }, dm);

  it("should rename field keys to columns and convert values", () => {
    const v = new RecordValidator(m, teams, "t.json", "auto", undefined);
    expect(v.validate([{ id: "1", leagueId: 2 }], 0)).toEqual([{ id: 1, league_id: 2 }]);
    expect(v.keyMode).toBe("fields");
  });

  it("should detect the key mode from known keys only when unknown keys are ignored", () => {
    const v = new RecordValidator(m, teams, "t.json", "auto", undefined, "ignore");
    expect(
      v.validate(
        [
          { id: 1, league_id: 2, stadium: "x" },
          { id: 2, league_id: 3, comment: "y" },
        ],
        0,
      ),
    ).toEqual([
      { id: 1, league_id: 2 },
      { id: 2, league_id: 3 },
    ]);
    expect(v.keyMode).toBe("columns");
  });

  it("should name the record index and the field in the file's own naming", () => {
    const v = new RecordValidator(m, teams, "t.json", "auto", undefined);
    const e = thrown(() =>
      v.validate(
        [
          { id: 1, leagueId: 1 },
          { id: 2, leagueId: "two" },
        ],
        10,
      ),
    );
    expect(e).toMatchObject({ code: "VALIDATION_FAILED", record: 11, field: "leagueId", file: "t.json" });
  });

  it("should refuse a record that is not an object", () => {
    const v = new RecordValidator(m, teams, "t.json", "auto", undefined);
    expect(thrown(() => v.validate([[1, 2]], 0))).toMatchObject({ code: "VALIDATION_FAILED", record: 0 });
    expect(thrown(() => v.validate([null], 3))).toMatchObject({ code: "VALIDATION_FAILED", record: 3 });
  });
});
