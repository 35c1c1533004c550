import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { createLogger } from "../../src/reporting/logger.js";
import { sql } from "../fixtures/core/kit.js";
import { useWildProject, WILD_ENTRIES, wildRelease } from "../fixtures/wild/kit.js";

const { db, ws } = useWildProject();

/** The release (column-keyed) with a value for the generated column `title_upper` in every film. */
function withGeneratedValues() {
  const release = wildRelease(4);
  const films = release["film.json"] as Record<string, unknown>[];
  for (const f of films) f.title_upper = "WHATEVER THE APP SAW";
  return { release, films: films.length };
}

describe("generated columns", () => {
  {
    it("should leave out values of a generated column, saying so once for the table, and let the database compute it", async () => {
      const { release, films } = withGeneratedValues();
      await ws.writeRelease("r", release);
      const lines: { msg?: string; table?: string; generatedSkipped?: Record<string, number> }[] = [];
      const logger = createLogger({
        destination: { write: (l: string) => void lines.push(JSON.parse(l)) } as unknown as NodeJS.WritableStream,
      });
      const etl = new AtomicEtl(ws.wildConfig({ r: { tables: WILD_ENTRIES } }), { logger });
      const report = await etl.import({ release: "r", url: db.url, backup: false });
      expect(report.outcome).toBe("committed");
      expect(await sql(db.url, "SELECT count(*)::int AS n FROM film WHERE title_upper IS DISTINCT FROM upper(title)")).toEqual([{ n: 0 }]);
      const said = lines.filter((l) => l.generatedSkipped && l.table === "film");
      expect(said).toHaveLength(1);
      expect(said[0]?.generatedSkipped).toEqual({ title_upper: films });
      expect(said[0]?.msg).toContain("the database computes them");
    });
  }

  it("should leave out the generated column in a field-keyed file too (titleUpper), saying so once for the table", async () => {
    const release = wildRelease(150);
    const PRISMA_RATING: Record<string, string> = { "PG-13": "PG_13", "NC-17": "NC_17" };
    // as a Prisma app exports them: field names, Prisma's enum names, no fulltext (Unsupported: the app cannot read it)
    const films = (release["film.json"] as Record<string, unknown>[]).map((f) => ({
      filmId: f.film_id,
      title: f.title,
      description: f.description,
      releaseYear: f.release_year,
      languageId: f.language_id,
      rentalRate: f.rental_rate,
      length: f.length,
      rating: PRISMA_RATING[f.rating as string] ?? f.rating,
      specialFeatures: f.special_features,
      titleUpper: "WHATEVER THE APP SAW",
    }));
    await ws.writeRelease("r", { ...release, "film.json": films });
    const lines: { msg?: string; table?: string; generatedSkipped?: Record<string, number> }[] = [];
    const logger = createLogger({
      destination: { write: (l: string) => void lines.push(JSON.parse(l)) } as unknown as NodeJS.WritableStream,
    });
    const tables = WILD_ENTRIES.map((t) => (t.table === "film" ? { model: "Film", file: t.file, batchSize: 50 } : t));
    const report = await new AtomicEtl(ws.wildConfig({ r: { tables } }), { logger }).import({ release: "r", url: db.url, backup: false });
    expect(report.outcome).toBe("committed");
    expect(report.tables.find((t) => t.table === "film")).toMatchObject({ keyMode: "fields", rowsLoaded: 150, batches: 3 });
    expect(await sql(db.url, "SELECT title_upper FROM film WHERE film_id = 101")).toEqual([{ title_upper: "FILM 1" }]);
    expect(await sql(db.url, "SELECT count(*)::int AS n FROM film WHERE title_upper IS DISTINCT FROM upper(title)")).toEqual([{ n: 0 }]);
    // once for the table, over its three batches, not per record or per batch
    const said = lines.filter((l) => l.generatedSkipped);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ table: "film" });
    // counted by column, whichever key style the file uses
    expect(said[0]?.generatedSkipped).toEqual({ titleUpper: 150 });
    expect(said[0]?.msg).toBe("releases/r/film.json: values for generated columns left out (titleUpper): the database computes them");
  });
});
