import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { failure, sql, useTestProject, workTables } from "./fixtures.js";

const { db, ws } = useTestProject({ seed: false });

describe("staged strategies: the final phase", () => {
  for (const strategy of ["staged-truncate", "staged-delete", "swap"] as const) {
    it(`should move a self-referencing table whose rows reference rows further down the file, with ${strategy}`, async () => {
      await sql(
        db.url,
        `CREATE TABLE categories (id int PRIMARY KEY, parent_id int REFERENCES categories (id), name text NOT NULL)`,
        `INSERT INTO categories VALUES (1, NULL, 'old root'), (2, 1, 'old child')`,
      );
      await ws.writeRelease("c", {
        "categories.json": [
          { id: 12, parent_id: 11, name: "grandchild" },
          { id: 11, parent_id: 10, name: "child" },
          { id: 10, parent_id: null, name: "root" },
        ],
      });
      const etl = new AtomicEtl(ws.config({ c: { tables: [{ table: "categories", file: "categories.json" }], strategy } }));

      await etl.import({ release: "c", url: db.url, backup: false, batchSize: 1 });

      expect(await sql(db.url, `SELECT id, parent_id FROM categories ORDER BY id`)).toEqual([
        { id: 10, parent_id: null },
        { id: 11, parent_id: 10 },
        { id: 12, parent_id: 11 },
      ]);
      await expect(sql(db.url, `INSERT INTO categories VALUES (13, 99, 'orphan')`)).rejects.toMatchObject({ code: "23503" });
      expect(await workTables(db.url)).toEqual([]);
    });
  }

  it("should draw identity values the release leaves out from the target's own sequence", async () => {
    await sql(
      db.url,
      `CREATE TABLE tags (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, label text NOT NULL)`,
      `INSERT INTO tags (label) SELECT 'old' FROM generate_series(1, 30)`,
    );
    await ws.writeRelease("t", { "tags.json": [{ label: "a" }, { id: 500, label: "b" }, { label: "c" }] });
    const etl = new AtomicEtl(ws.config({ t: { tables: [{ table: "tags", file: "tags.json" }], strategy: "staged-delete" } }));

    await etl.import({ release: "t", url: db.url, backup: false });

    const rows = await sql<{ id: number; label: string }>(db.url, `SELECT id, label FROM tags ORDER BY label`);
    expect(rows.map((r) => r.label)).toEqual(["a", "b", "c"]);
    expect(rows[1]?.id).toBe(500);
    expect([rows[0]?.id, rows[2]?.id].every((id) => (id as number) > 30)).toBe(true);
  });

  it("should fail with ROW_COUNT_MISMATCH when a trigger drops staged rows on their way in", async () => {
    await sql(
      db.url,
      `CREATE TABLE notes (id int PRIMARY KEY, body text)`,
      `INSERT INTO notes VALUES (1, 'kept')`,
      `CREATE FUNCTION skip_secret() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN IF NEW.body = 'secret' THEN RETURN NULL; END IF; RETURN NEW; END$$`,
      `CREATE TRIGGER notes_skip BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION skip_secret()`,
    );
    await ws.writeRelease("n", {
      "notes.json": [
        { id: 2, body: "public" },
        { id: 3, body: "secret" },
      ],
    });
    const etl = new AtomicEtl(ws.config({ n: { tables: [{ table: "notes", file: "notes.json" }], strategy: "staged-delete" } }));

    const f = await failure(etl.import({ release: "n", url: db.url, backup: false }));

    expect(f.error.code).toBe("ROW_COUNT_MISMATCH");
    expect(f.error.message).toBe("notes: 2 rows were staged but 1 were inserted");
    expect(f.error.data).toBe("rolled back; database unchanged");
    expect(await sql(db.url, `SELECT id, body FROM notes`)).toEqual([{ id: 1, body: "kept" }]);
  });
});
