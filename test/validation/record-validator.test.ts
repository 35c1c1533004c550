import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EtlError } from "../../src/errors.js";
import type { RawBatch } from "../../src/sources/read-records.js";
import { RawJson, rowsJson } from "../../src/validation/raw-json.js";
import { RecordValidator } from "../../src/validation/record-validator.js";
import { mapModel } from "../../src/validation/table-mapping.js";
import { dm, docs } from "./docs-table.js";

/** A batch as the reader yields it: records parsed from `texts`, `mayRepeat` as given. */
const batch = (texts: string[], mayRepeat: number[] = []): RawBatch => ({
  firstIndex: 10,
  records: texts.map((t) => JSON.parse(t) as unknown),
  texts,
  mayRepeat,
});

function thrown(fn: () => unknown): EtlError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EtlError);
    return e as EtlError;
  }
  throw new Error("expected a throw");
}

describe("RecordValidator.validateBatch", () => {
  const doc = '{"n": 9007199254740993, "x": [1.50]}';

  it("should carry each json value's text from the file, whatever the key style", () => {
    for (const key of ["docBody", "doc_body"]) {
      const v = new RecordValidator(mapModel({ model: "Doc" }, dm), docs, "d.json", "auto", undefined);
      const [row] = v.validateBatch(batch([`{"id": 1, "${key}": ${doc}}`]));
      expect(row?.doc_body).toBeInstanceOf(RawJson);
      expect(rowsJson([row as Record<string, unknown>])).toBe(`[{"id":1,"doc_body":${doc}}]`);
    }
  });

  it("should send the table schema's value instead when the schema changed it", () => {
    const schema = z.looseObject({ docBody: z.any().transform(() => ({ replaced: true })) });
    const v = new RecordValidator(mapModel({ model: "Doc" }, dm), docs, "d.json", "auto", schema);
    const [row] = v.validateBatch(batch([`{"id": 1, "doc_body": ${doc}}`]));
    expect(JSON.parse(rowsJson([row as Record<string, unknown>]))).toEqual([{ id: 1, doc_body: { replaced: true } }]);
  });

  it("should refuse a record that repeats a key, and keep the last value with last-wins", () => {
    const texts = ['{"id": 1}', '{"id": 2, "label": "a", "label": "b"}'];
    const strict = new RecordValidator(mapModel({ model: "Doc" }, dm), docs, "d.json", "auto", undefined);
    expect(thrown(() => strict.validateBatch(batch(texts, [1])))).toMatchObject({
      code: "REPEATED_KEY",
      file: "d.json",
      record: 11,
      field: "label",
      table: "docs",
    });
    const lenient = new RecordValidator(mapModel({ model: "Doc", duplicateKeys: "last-wins" }, dm), docs, "d.json", "auto", undefined);
    expect(lenient.validateBatch(batch(texts, [1]))).toEqual([{ id: 1 }, { id: 2, label: "b" }]);
  });

  it("should let a table schema strip keys that are not columns before they are refused", () => {
    const v = new RecordValidator(mapModel({ model: "Doc" }, dm), docs, "d.json", "auto", z.object({ id: z.number(), label: z.string() }));
    expect(v.validateBatch(batch(['{"id": 1, "label": "a", "comment": "export noise"}']))).toEqual([{ id: 1, label: "a" }]);
  });

  it("should refuse a record mixing both key styles when a schema in the other style renames it", () => {
    const v = new RecordValidator(mapModel({ model: "Doc" }, dm), docs, "d.json", "auto", z.looseObject({ docBody: z.any() }));
    expect(thrown(() => v.validateBatch(batch(['{"id": 1, "doc_body": {}}', '{"id": 2, "doc_body": {}, "docBody": {}}'])))).toMatchObject({
      code: "UNKNOWN_KEY",
      field: "docBody",
      record: 11,
    });
  });

  it("should name the record, the field, the value and the next step of a value of the wrong type", () => {
    const v = new RecordValidator(mapModel({ model: "Doc" }, dm), docs, "d.json", "auto", undefined);
    const e = thrown(() => v.validateBatch(batch(['{"id": 1}', '{"id": "many"}'])));
    expect(e).toMatchObject({ code: "VALIDATION_FAILED", file: "d.json", record: 11, field: "id", meta: { value: "many" } });
    expect(e.next).toBe('fix "id" in record #11 of d.json (0-based), then run the same command again');
  });
});
