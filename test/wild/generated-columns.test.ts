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
});
