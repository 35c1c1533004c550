import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import type { StrategyName } from "../../src/config/schema.js";
import { EtlError } from "../../src/errors.js";
import { RecordValidator } from "../../src/validation/record-validator.js";
import { mapModel } from "../../src/validation/table-mapping.js";
import { dm, docs } from "./docs-table.js";
import { failure, nextRelease, snapshot, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";

type Rec = Record<string, unknown>;

function unknownKeyOf(records: Rec[]): EtlError {
  const v = new RecordValidator(mapModel({ model: "Doc" }, dm), docs, "docs.json", "auto", undefined);
  try {
    v.validate(records, 0);
  } catch (e) {
    expect(e).toBeInstanceOf(EtlError);
    return e as EtlError;
  }
  throw new Error("validated");
}

describe("UNKNOWN_KEY lists the known keys in the file's own style", () => {
  it("should list column names for a column-keyed file", () => {
    const e = unknownKeyOf([
      { id: 1, doc_body: null },
      { id: 2, lable: "x" },
    ]);
    expect(e).toMatchObject({ code: "UNKNOWN_KEY", record: 1, field: "lable" });
    expect(e.message).toContain("known columns: id, doc_body, label");
    expect(e.message).not.toContain("docBody");
  });

  it("should list Prisma field names for a field-keyed file", () => {
    const e = unknownKeyOf([
      { id: 1, docBody: null },
      { id: 2, lable: "x" },
    ]);
    expect(e.message).toContain("known fields: id, docBody, label");
    expect(e.message).not.toContain("doc_body");
  });

  it("should list in the style of the first record's other keys when that record holds the unknown key", () => {
    expect(unknownKeyOf([{ id: 1, doc_body: null, lable: "x" }]).message).toContain("known columns: id, doc_body, label");
    expect(unknownKeyOf([{ id: 1, docBody: null, lable: "x" }]).message).toContain("known fields: id, docBody, label");
    expect(unknownKeyOf([{ id: 1, lable: "x" }]).message).toContain("known fields: id, docBody, label; or columns: id, doc_body, label");
  });
});

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** The release with every key as its column name: a database export. */
const columnKeyed = (files: Record<string, Rec[]>) =>
  Object.fromEntries(
    Object.entries(files).map(([f, rows]) => [f, rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [snake(k), v])))]),
  );

describe("errors of a column-keyed file name its columns", () => {
  const { db, ws } = useTestProject({ seed: false });

  async function refused(strategy: StrategyName, files: Record<string, Rec[]>) {
    await ws.writeRelease("base", nextRelease());
    await ws.writeRelease("bad", files);
    // scoped: a range every id falls in, on the one column every table has
    const scope = strategy === "scoped" ? { scope: { id: { from: 0 } } } : {};
    const etl = new AtomicEtl(ws.config({ base: { tables: STANDARD_TABLES }, bad: { tables: STANDARD_TABLES, strategy, ...scope } }));
    await etl.import({ release: "base", url: db.url, backup: false });
    const before = await snapshot(db.url);
    const f = await failure(etl.import({ release: "bad", url: db.url, backup: false }));
    expect(await snapshot(db.url)).toEqual(before);
    // the strategy asked for ran (none fell back to another)
    expect(f.report.strategy).toBe(strategy);
    return f.error;
  }

  const withPlayer = (i: number, patch: Rec) => {
    const files = nextRelease();
    const players = files["players.json"] as Rec[];
    players[i] = { ...players[i], ...patch };
    return columnKeyed(files);
  };

  for (const strategy of ["direct", "staged-delete"] as const) {
    it(`should name an orphan's column, not its Prisma field, with ${strategy}`, async () => {
      const e = await refused(strategy, withPlayer(3, { teamId: 99 }));
      expect(e).toMatchObject({ code: "FK_VIOLATION", file: "releases/bad/players.json", record: 3, field: "team_id" });
      expect(e.message).toContain("record #3 has team_id = 99");
      expect(e.message).not.toContain("teamId");
    });
  }

  it("should name a repeated unique column as the file spells it", async () => {
    const e = await refused("staged-truncate", withPlayer(4, { externalId: "1001" }));
    expect(e).toMatchObject({ code: "DUPLICATE_KEY", file: "releases/bad/players.json", record: 4, field: "external_id" });
    expect(e.meta.duplicateOf).toBe(0);
    expect(e.message).toContain('record #4 repeats external_id = "1001" of record #0');
  });

  for (const strategy of ["swap", "scoped", "merge"] as const) {
    it(`should name an orphan's column, not its Prisma field, with ${strategy}`, async () => {
      const e = await refused(strategy, withPlayer(3, { teamId: 99 }));
      expect(e).toMatchObject({ code: "FK_VIOLATION", file: "releases/bad/players.json", record: 3, field: "team_id" });
      expect(e.message).toContain("record #3 has team_id = 99");
      expect(e.message).not.toContain("teamId");
    });

    it(`should name a repeated unique column as the file spells it, with ${strategy}`, async () => {
      const e = await refused(strategy, withPlayer(4, { externalId: "1001" }));
      expect(e).toMatchObject({ code: "DUPLICATE_KEY", file: "releases/bad/players.json", record: 4, field: "external_id" });
      expect(e.meta.duplicateOf).toBe(0);
      expect(e.message).toContain('record #4 repeats external_id = "1001" of record #0');
      expect(e.message).not.toContain("externalId");
    });
  }
});
