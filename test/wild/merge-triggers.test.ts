import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { sql } from "../fixtures/core/kit.js";
import { useWildProject, wildRelease } from "../fixtures/wild/kit.js";

const { db, ws } = useWildProject();

type Rec = Record<string, unknown>;
const films = (withStamp: boolean): Rec[] =>
  (wildRelease(4)["film.json"] as Rec[])
    .filter((f) => f.language_id === 1)
    .map((f) => (withStamp ? { ...f, last_update: "2021-06-01T00:00:00Z" } : f));
const merge = (extra: Record<string, unknown> = {}) => ({
  tables: [{ table: "film", file: "film.json", mode: "merge" as const, merge: extra }],
});
const counts = (r: { tables: { applied: unknown }[] }) => r.tables[0]?.applied;

describe("merge over a table whose UPDATE trigger stamps now()", () => {
  it("should settle when the release does not carry the stamped column: only the columns it mentions are compared", async () => {
    await ws.writeRelease("f", { "film.json": films(false) });
    const etl = new AtomicEtl(ws.wildConfig({ f: merge() }));
    expect(counts(await etl.import({ release: "f", url: db.url, backup: false }))).toMatchObject({ inserted: 2, updated: 0 });
    const stamps = await sql(db.url, "SELECT film_id, last_update FROM film ORDER BY 1");
    expect(counts(await etl.import({ release: "f", url: db.url, backup: false, redeploy: true }))).toMatchObject({
      inserted: 0,
      updated: 0,
      unchanged: 2,
    });
    // nothing was written, so the trigger never fired
    expect(await sql(db.url, "SELECT film_id, last_update FROM film ORDER BY 1")).toEqual(stamps);
  });

  it("should never settle when the release carries a column the trigger overwrites, until the column is declared ownedByTrigger", async () => {
    const retitled = films(true).map((f, i) => (i === 0 ? { ...f, title: "Retitled" } : f));
    const plain = new AtomicEtl(ws.wildConfig({ f: merge() }));
    await ws.writeRelease("f", { "film.json": films(true) });
    await plain.import({ release: "f", url: db.url, backup: false });
    await ws.writeRelease("f", { "film.json": retitled });
    // the update fires the trigger, which replaces the release's stamp with now() ...
    expect(counts(await plain.import({ release: "f", url: db.url, backup: false }))).toMatchObject({ updated: 1, unchanged: 1 });
    // ... so the same release "changes" that row again on every forced run
    expect(counts(await plain.import({ release: "f", url: db.url, backup: false, redeploy: true }))).toMatchObject({
      updated: 1,
      unchanged: 1,
    });
    const owned = new AtomicEtl(ws.wildConfig({ f: merge({ ownedByTrigger: ["last_update"] }) }));
    expect(counts(await owned.import({ release: "f", url: db.url, backup: false }))).toMatchObject({ updated: 0, unchanged: 2 });
    // a real change is still written, and the trigger stamps it
    await ws.writeRelease("f", { "film.json": films(true) });
    expect(counts(await owned.import({ release: "f", url: db.url, backup: false }))).toMatchObject({ updated: 1, unchanged: 1 });
    const [row] = await sql<{ title: string; fresh: boolean }>(
      db.url,
      "SELECT title, last_update > now() - interval '1 minute' AS fresh FROM film WHERE film_id = 101",
    );
    expect(row).toEqual({ title: "Film 1", fresh: true });
  });

  it("should leave columns the release never mentions as they are on a match", async () => {
    await sql(db.url, "INSERT INTO film (film_id, title, description, language_id) VALUES (101, 'Film 1', 'kept description', 1)");
    await ws.writeRelease("f", { "film.json": [{ film_id: 101, title: "Film 1 renamed", language_id: 1 }] });
    const r = await new AtomicEtl(ws.wildConfig({ f: merge() })).import({ release: "f", url: db.url, backup: false });
    expect(counts(r)).toMatchObject({ updated: 1 });
    expect(await sql(db.url, "SELECT title, description FROM film WHERE film_id = 101")).toEqual([
      { title: "Film 1 renamed", description: "kept description" },
    ]);
  });
});
