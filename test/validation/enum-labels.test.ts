import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { enumsOfSchema } from "../../src/validation/prisma-enums.js";
import { failure, sql } from "../fixtures/core/kit.js";
import { useWildProject } from "../fixtures/wild/kit.js";

/**
 * Prisma enums whose values are `@map`ped (`PG_13 @map("PG-13")`): a field-keyed file (an
 * app export) may carry the Prisma names, a column-keyed one (a database export) carries the
 * labels, and the database always gets the label.
 */
describe("enumsOfSchema", () => {
  it("should read each enum's Prisma value names, their @map labels and the type's @@map name", async () => {
    const enums = await enumsOfSchema(
      `enum Rating {\n  G\n  PG_13 @map("PG-13") // comment\n\n  @@map("mpaa_rating")\n}\nmodel M {\n  id Int @id\n}\n`,
    );
    expect(enums).toEqual({
      Rating: {
        dbName: "mpaa_rating",
        values: [
          { name: "G", dbName: null },
          { name: "PG_13", dbName: "PG-13" },
        ],
      },
    });
  });
});

describe("@map'ped enum values", () => {
  const { db, ws } = useWildProject();

  /** Merged: films 1 and 2 are updated (payments and rentals reference them), film 3 is new. */
  const films = (ratings: [string, string, string], keys: "fields" | "columns") =>
    ratings.map((rating, i) =>
      keys === "fields"
        ? { filmId: i + 1, title: `Film ${i + 1}`, languageId: 1, rating, specialFeatures: [] }
        : { film_id: i + 1, title: `Film ${i + 1}`, language_id: 1, rating, special_features: [] },
    );

  async function load(keys: "fields" | "columns", ratings: [string, string, string]) {
    await ws.writeRelease("films", { "film.json": films(ratings, keys) });
    const entry = keys === "fields" ? { model: "Film", file: "film.json" } : { table: "film", file: "film.json" };
    return new AtomicEtl(ws.wildConfig({ films: { tables: [entry], strategy: "merge" } })).import({
      release: "films",
      url: db.url,
      backup: false,
    });
  }

  const ratings = () => sql<{ film_id: number; rating: string }>(db.url, "SELECT film_id, rating::text FROM film ORDER BY film_id");

  it("should accept Prisma names (and labels) in a field-keyed file and write the database labels", async () => {
    await load("fields", ["PG_13", "NC_17", "G"]);
    expect(await ratings()).toEqual([
      { film_id: 1, rating: "PG-13" },
      { film_id: 2, rating: "NC-17" },
      { film_id: 3, rating: "G" },
    ]);
    await load("fields", ["PG-13", "R", "NC_17"]);
    expect((await ratings()).map((r) => r.rating)).toEqual(["PG-13", "R", "NC-17"]);
  });

  it("should accept the database labels in a column-keyed file, and refuse Prisma names there, naming the record", async () => {
    await load("columns", ["PG-13", "NC-17", "R"]);
    expect((await ratings()).map((r) => r.rating)).toEqual(["PG-13", "NC-17", "R"]);

    const f = await failure(load("columns", ["G", "PG_13", "R"]));
    expect(f.error).toMatchObject({ code: "VALIDATION_FAILED", file: "releases/films/film.json", record: 1, field: "rating" });
    expect((await ratings()).map((r) => r.rating)).toEqual(["PG-13", "NC-17", "R"]);
  });
});
