import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EtlError } from "../../src/errors.js";
import type { TableInfo } from "../../src/sql/catalog.js";
import { mapModel } from "../../src/validation/table-mapping.js";
import { resolveSchemaStyle, schemaKeys, TableSchema } from "../../src/validation/table-schema.js";
import { columnInfo } from "../fixtures/catalog.js";

const players: TableInfo = {
  schema: "public",
  name: "players",
  columns: ["id", "team_id", "height_cm", "position", "legacy_code"].map((c) => columnInfo(c, c === "position" ? "text" : "int4")),
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
    Player: {
      dbName: "players",
      fields: [
        { name: "id", kind: "scalar", type: "Int" },
        { name: "teamId", kind: "scalar", type: "Int", dbName: "team_id" },
        { name: "heightCm", kind: "scalar", type: "Int", dbName: "height_cm" },
        { name: "position", kind: "scalar", type: "String" },
        { name: "team", kind: "object", type: "Team" },
      ],
    },
  },
};
const m = mapModel({ model: "Player" }, dm);

function thrown(fn: () => unknown): EtlError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EtlError);
    return e as EtlError;
  }
  throw new Error("expected a throw");
}

describe("schemaKeys", () => {
  it("should read the keys of an object through refinements, transforms and wrappers", () => {
    const o = z.looseObject({ heightCm: z.number(), position: z.string() });
    for (const s of [
      o,
      o.superRefine(() => undefined),
      o.transform((x) => x),
      o.optional(),
      z.lazy(() => o),
      z.preprocess((x) => x, o),
      o.pick({ heightCm: true, position: true }),
    ]) {
      expect(schemaKeys(s)).toEqual(new Set(["heightCm", "position"]));
    }
    expect(
      schemaKeys(
        z.intersection(
          z.object({ a: z.number() }),
          z.custom(() => true),
        ),
      ),
    ).toEqual(new Set(["a"]));
    expect(schemaKeys(z.union([z.object({ a: z.number() }), z.object({ b: z.number() })]))).toEqual(new Set(["a", "b"]));
  });

  it("should say null for schemas whose keys cannot be known", () => {
    for (const s of [z.custom(() => true), z.any(), z.record(z.string(), z.number()), z.looseObject({}), { safeParse: () => ({}) }]) {
      expect(schemaKeys(s)).toBeNull();
    }
  });
});

describe("resolveSchemaStyle", () => {
  it("should tell a schema written with field names from one written with column names", () => {
    expect(resolveSchemaStyle(z.looseObject({ heightCm: z.number() }), m, players)).toBe("fields");
    expect(resolveSchemaStyle(z.looseObject({ height_cm: z.number(), legacy_code: z.number() }), m, players)).toBe("columns");
    expect(resolveSchemaStyle(z.looseObject({ id: z.number(), position: z.string() }), m, players)).toBe("file");
  });

  it("should run a schema whose keys cannot be read on field names, or on columns for a table without a model", () => {
    expect(
      resolveSchemaStyle(
        z.custom(() => true),
        m,
        players,
      ),
    ).toBe("fields");
    expect(
      resolveSchemaStyle(
        z.custom(() => true),
        mapModel({ table: "players" }, undefined),
        players,
      ),
    ).toBe("columns");
  });

  it("should refuse a key that is neither a field nor a column, naming every such key", () => {
    const e = thrown(() => resolveSchemaStyle(z.looseObject({ heigthCm: z.number(), team: z.any(), id: z.number() }), m, players));
    expect(e).toMatchObject({ code: "CONFIG_INVALID", step: "config", table: "players", field: "heigthCm" });
    expect(e.message).toContain('"heigthCm", "team" are neither a field of model Player nor a column of table players');
  });

  it("should refuse a schema that mixes field and column names", () => {
    const e = thrown(() => resolveSchemaStyle(z.looseObject({ heightCm: z.number(), team_id: z.number() }), m, players));
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.message).toContain("mixes Prisma field names (heightCm) and column names (team_id)");
  });
});

describe("TableSchema.run", () => {
  const tall = z.looseObject({ heightCm: z.number().min(140).nullish() });

  it("should run a field-name schema on a column-keyed record and report in the file's spelling", () => {
    const s = new TableSchema(tall, m, players);
    expect(s.run({ id: 1, height_cm: 180, legacy_code: 7 }, "columns")).toEqual({
      ok: true,
      value: { id: 1, height_cm: 180, legacy_code: 7 },
    });
    expect(s.run({ id: 1, height_cm: 120 }, "columns")).toEqual({
      ok: false,
      failure: { field: "height_cm", value: 120, message: "Too small: expected number to be >=140" },
    });
  });

  it("should run a column-name schema on a field-keyed record, with the schema's output renamed back", () => {
    const s = new TableSchema(z.looseObject({ height_cm: z.number().transform((n) => n + 1) }), m, players);
    expect(s.run({ id: 1, heightCm: 180 }, "fields")).toEqual({ ok: true, value: { id: 1, heightCm: 181 } });
    expect(s.run({ id: 1, heightCm: "x" }, "fields")).toMatchObject({ ok: false, failure: { field: "heightCm", value: "x" } });
  });

  it("should name a key a strict schema does not know in the file's spelling", () => {
    const s = new TableSchema(z.strictObject({ id: z.number(), heightCm: z.number() }), m, players);
    expect(s.run({ id: 1, height_cm: 150, team_id: 3 }, "columns")).toMatchObject({ ok: false, failure: { field: "team_id", value: 3 } });
  });

  it("should report a key that collides once renamed", () => {
    expect(new TableSchema(tall, m, players).run({ height_cm: 150, heightCm: 150 }, "columns")).toEqual({ collision: "heightCm" });
  });
});
