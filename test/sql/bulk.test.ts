import { describe, expect, it } from "vitest";
import type { ForeignKeyInfo } from "../../src/sql/catalog.js";
import { bumpSequence, countRows, deleteAll, insertBatch, insertSelect, missingParentKeys, truncateTables } from "../../src/sql/bulk.js";
import { createStaging } from "../../src/sql/ddl.js";
import { fingerprint } from "../../src/sql/fingerprint.js";
import { lockTables } from "../../src/sql/locks.js";
import { setLocal } from "../../src/sql/session.js";

const leagues = { schema: "public", name: "leagues" };
const hostile = { schema: 'sch"ema', name: 'x"; DROP TABLE leagues; --' };
const Q_HOSTILE = '"sch""ema"."x""; DROP TABLE leagues; --"';

describe("statement builders", () => {
  it("should build one set-based INSERT per batch with the rows as one JSON parameter", () => {
    const json = JSON.stringify([{ id: 1, code: "A'); DROP TABLE x; --" }]);
    expect(insertBatch(leagues, leagues, ["id", "code"], json)).toEqual({
      text: 'INSERT INTO "public"."leagues" ("id", "code") SELECT "id", "code" FROM json_populate_recordset(NULL::"public"."leagues", $1::json)',
      values: [json],
    });
  });

  it("should say OVERRIDING SYSTEM VALUE when identity columns are given", () => {
    expect(insertBatch(leagues, { schema: "pg_temp", name: "stage" }, ["id"], "[]", true)).toEqual({
      text: 'INSERT INTO "public"."leagues" ("id") OVERRIDING SYSTEM VALUE SELECT "id" FROM json_populate_recordset(NULL::"pg_temp"."stage", $1::json)',
      values: ["[]"],
    });
  });

  it("should quote hostile table and column names in an INSERT", () => {
    expect(insertBatch(hostile, hostile, ['c"ol', "a, b"], "[]")).toEqual({
      text: `INSERT INTO ${Q_HOSTILE} ("c""ol", "a, b") SELECT "c""ol", "a, b" FROM json_populate_recordset(NULL::${Q_HOSTILE}, $1::json)`,
      values: ["[]"],
    });
  });

  it("should truncate several tables in one statement and lock them in one statement", () => {
    expect(truncateTables([leagues, hostile])).toEqual({ text: `TRUNCATE TABLE "public"."leagues", ${Q_HOSTILE}`, values: [] });
    expect(lockTables([leagues, hostile], "ACCESS EXCLUSIVE")).toEqual({
      text: `LOCK TABLE "public"."leagues", ${Q_HOSTILE} IN ACCESS EXCLUSIVE MODE`,
      values: [],
    });
  });

  it("should build DELETE, count and fingerprint over a quoted name", () => {
    expect(deleteAll(hostile)).toEqual({ text: `DELETE FROM ${Q_HOSTILE}`, values: [] });
    expect(countRows(hostile)).toEqual({ text: `SELECT count(*)::bigint AS n FROM ${Q_HOSTILE}`, values: [] });
    expect(fingerprint(leagues, 1, [])).toEqual({
      text: `SELECT count(*)::bigint AS rows, COALESCE(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint::numeric), 0)::text AS hash FROM "public"."leagues" AS t`,
      values: [],
    });
    // format 2: each column by its own hash, its binary form or its text; the row hash mixed with itself as the seed
    const H = `hash_record_extended(ROW(t."i""d", t."doc"::text COLLATE "C", pg_catalog.numeric_send(t."n"), pg_catalog.array_send(t."xs")), 0)`;
    expect(
      fingerprint(hostile, 2, [
        { name: 'i"d', read: "value" },
        { name: "doc", read: "text" },
        { name: "n", read: "send:numeric" },
        { name: "xs", read: "array" },
      ]),
    ).toEqual({
      text: `SELECT count(*)::bigint AS rows, COALESCE(sum(hashint8extended(${H}, ${H})::numeric), 0)::text AS hash FROM ${Q_HOSTILE} AS t`,
      values: [],
    });
  });

  it("should pass the sequence name as a parameter and quote the column when bumping a sequence", () => {
    expect(bumpSequence(hostile, 'i"d', 'public."we""ird_seq"')).toEqual({
      text: `SELECT setval($1::regclass, m) FROM (SELECT max("i""d")::bigint AS m FROM ${Q_HOSTILE}) s WHERE m IS NOT NULL AND m > COALESCE(pg_sequence_last_value($1::regclass), 0)`,
      values: ['public."we""ird_seq"'],
    });
  });

  it("should set transaction-local settings through set_config with parameters", () => {
    expect(setLocal("statement_timeout", 600000)).toEqual({
      text: "SELECT set_config($1, $2, true)",
      values: ["statement_timeout", "600000ms"],
    });
    expect(setLocal("lock_timeout", 0)).toEqual({ text: "SELECT set_config($1, $2, true)", values: ["lock_timeout", "0ms"] });
  });

  it("should build the staging statements with quoted names", () => {
    expect(createStaging('st"age', hostile, { constraints: false })).toEqual({
      text: `CREATE TEMP TABLE "st""age" (LIKE ${Q_HOSTILE} INCLUDING DEFAULTS) ON COMMIT DROP`,
      values: [],
    });
    expect(insertSelect(leagues, { schema: "pg_temp", name: "s" }, ["id", 'n"ame'])).toEqual({
      text: 'INSERT INTO "public"."leagues" ("id", "n""ame") SELECT "id", "n""ame" FROM "pg_temp"."s"',
      values: [],
    });
  });

  it("should probe missing parent keys with the probe rows as one JSON parameter", () => {
    const fk: ForeignKeyInfo = {
      name: "fk",
      table: { schema: "public", name: "teams" },
      columns: ["league_id", "season"],
      references: hostile,
      referencedColumns: ["id", 's"n'],
      onDelete: "a",
      deferrable: false,
    };
    const probe = JSON.stringify([{ id: 1, 's"n': 2 }]);
    expect(missingParentKeys(fk, probe)).toEqual({
      text: `SELECT w.ordinality AS n FROM json_populate_recordset(NULL::${Q_HOSTILE}, $1::json) WITH ORDINALITY AS w WHERE NOT EXISTS (SELECT 1 FROM ${Q_HOSTILE} p WHERE p."id" = w."id" AND p."s""n" = w."s""n") ORDER BY 1`,
      values: [probe],
    });
  });
});
