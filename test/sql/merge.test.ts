import { describe, expect, it } from "vitest";
import { deleteMissing, type MergeSpec, stagedRows, upsertChanges } from "../../src/sql/merge.js";

const spec = (over: Partial<MergeSpec> = {}): MergeSpec => ({
  target: { schema: "public", name: 'we"ird' },
  stage: { schema: "pg_temp", name: "s" },
  dedup: { schema: "pg_temp", name: "d" },
  changes: { schema: "pg_temp", name: "c" },
  key: ["id"],
  nullEqualKey: [],
  order: [],
  update: ["v"],
  insert: ["id", "v"],
  omittable: [],
  asText: [],
  onlyIfNewer: false,
  overriding: false,
  deleteScope: null,
  helpers: { rank: "atomic_etl_rank", tied: "atomic_etl_tied", isNew: "atomic_etl_is_new" },
  partitioned: false,
  ...over,
});

describe("merge statements", () => {
  it("should quote every name and upsert only changed rows, counting inserts and updates", () => {
    expect(upsertChanges(spec(), [])).toEqual({
      text:
        'WITH w AS (INSERT INTO "public"."we""ird" AS t ("id", "v") SELECT "id", "v" FROM "pg_temp"."c" ' +
        'ON CONFLICT ("id") DO UPDATE SET "v" = excluded."v" WHERE ROW(t."v") IS DISTINCT FROM ROW(excluded."v") RETURNING t.xmax = 0 AS ins) ' +
        "SELECT count(*) FILTER (WHERE ins)::bigint AS inserted, count(*) FILTER (WHERE NOT ins)::bigint AS updated FROM w",
      values: [],
    });
  });

  it("should leave omitted columns to their DEFAULT and never update a key when no column is left to update", () => {
    const text = upsertChanges(spec({ update: [], insert: ["id", "created"], omittable: ["created"] }), ["created"]).text;
    expect(text).toContain('("id") SELECT "id" FROM "pg_temp"."c" WHERE "created" IS NULL ON CONFLICT ("id") DO NOTHING');
  });

  it("should bind the deleteMissing scope as one JSON value, and bind nothing without a scope", () => {
    expect(deleteMissing(spec({ deleteScope: { team_id: 7 } }))).toEqual({
      text:
        'DELETE FROM "public"."we""ird" t WHERE t."team_id" = (SELECT (json_populate_record(NULL::"public"."we""ird", $1::json))."team_id") ' +
        'AND NOT EXISTS (SELECT 1 FROM "pg_temp"."d" s WHERE s."id" = t."id")',
      values: ['{"team_id":7}'],
    });
    expect(deleteMissing(spec({ deleteScope: {} })).values).toEqual([]);
  });

  it("should count staged rows with a missing key part in the same scan", () => {
    expect(stagedRows(spec(), ["id"])).toEqual({
      text: 'SELECT count(*)::bigint AS rows, count(*) FILTER (WHERE "id" IS NULL)::bigint AS null_keys FROM "pg_temp"."s"',
      values: [],
    });
  });
});
