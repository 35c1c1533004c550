/**
 * A table `schema` applies whatever the file's key style: written with Prisma field names
 * or with column names, run on field-keyed or column-keyed files, its failures reported in
 * the file's spelling; a key that is neither is a config error before anything is touched.
 */
import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { failure, nextRelease, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

type Rec = Record<string, unknown>;
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The standard release; players keyed by `keys`, with player 200 120 cm tall. */
function release(keys: "fields" | "columns"): Record<string, Rec[]> {
  const files = nextRelease();
  files["players.json"] = (files["players.json"] as Rec[]).map((p) => {
    const rec = p.id === 200 ? { ...p, heightCm: 120 } : p;
    return keys === "fields" ? rec : Object.fromEntries(Object.entries(rec).map(([k, v]) => [snake(k), v]));
  });
  return files;
}

const withSchema = (schema: z.ZodType) => STANDARD_TABLES.map((t) => (t.model === "Player" ? { ...t, schema } : t));
const run = (schema: z.ZodType, backup = false) =>
  new AtomicEtl(ws.config({ r: { tables: withSchema(schema) } })).import({ release: "r", url: db.url, backup });

describe("a table schema in either key style", () => {
  it.each([
    ["field names (the README's heightCm)", "columns", z.looseObject({ heightCm: z.number().min(140).nullish() }), "height_cm"],
    ["column names", "fields", z.looseObject({ height_cm: z.number().min(140).nullish() }), "heightCm"],
    ["field names", "fields", z.looseObject({ heightCm: z.number().min(140).nullish() }), "heightCm"],
    ["column names", "columns", z.looseObject({ height_cm: z.number().min(140).nullish() }), "height_cm"],
  ] as const)(
    "should apply a schema written with %s to a %s-keyed file, naming the field as the file spells it",
    async (_s, keys, schema, field) => {
      await ws.writeRelease("r", release(keys));
      const before = await stateOf(db.url);

      const f = await failure(run(schema));

      expect(f.error).toMatchObject({ code: "VALIDATION_FAILED", file: "releases/r/players.json", record: 4, field, table: "players" });
      expect(f.error.message).toContain("expected number to be >=140 (got 120)");
      expect(f.error.meta.value).toBe(120);
      expect(f.exitCode).toBe(4);
      expect(f.error.data).toBe("rolled back; database unchanged");
      expect(await stateOf(db.url)).toEqual(before);
    },
  );

  it("should load the schema's output into the columns when the styles differ", async () => {
    await ws.writeRelease("r", release("columns"));
    const schema = z.looseObject({ fullName: z.string().transform((s) => s.toUpperCase()), heightCm: z.number().nullish() });

    const report = await run(schema);

    expect(report.outcome).toBe("committed");
    const rows = await sql<{ full_name: string; height_cm: number | null }>(
      db.url,
      "SELECT full_name, height_cm FROM players WHERE id IN (100, 200) ORDER BY id",
    );
    expect(rows).toEqual([
      { full_name: "ADA KEEPER", height_cm: 191 },
      { full_name: "ED SEVILLANO", height_cm: 120 },
    ]);
  });

  it("should run a schema whose keys cannot be read on Prisma field names, whatever the file's keys", async () => {
    await ws.writeRelease("r", release("columns"));
    const tallEnough = z.custom<Rec>((r) => {
      const h = (r as Rec).heightCm;
      return h === undefined || h === null || (h as number) >= 140;
    }, "players are at least 140 cm tall");

    const f = await failure(run(tallEnough));

    expect(f.error).toMatchObject({ code: "VALIDATION_FAILED", record: 4 });
    expect(f.error.message).toContain("players are at least 140 cm tall");
  });

  it("should refuse a schema key that is neither a field nor a column with CONFIG_INVALID, before the backup and the transaction", async () => {
    await ws.writeRelease("r", release("columns"));
    const before = await stateOf(db.url);

    const f = await failure(run(z.looseObject({ heigthCm: z.number().min(140) }), true));

    expect(f.error).toMatchObject({ code: "CONFIG_INVALID", step: "config", table: "players", field: "heigthCm", data: "untouched" });
    expect(f.error.message).toContain('"heigthCm" is neither a field of model Player nor a column of table players');
    expect(f.exitCode).toBe(2);
    expect(f.report.txid).toBeNull();
    expect(f.report.backup).toBeNull();
    expect(await readdir(ws.backupDir).catch(() => [])).toEqual([]);
    expect(await stateOf(db.url)).toEqual(before);
  });
});
