import { describe, expect, it } from "vitest";
import {
  addForeignKeyUnlessViolated,
  dropConstraint,
  orphanedRows,
  partitionLeaves,
  referencingForeignKeys,
} from "../../src/sql/backup-statements.js";
import { databaseIdentity } from "../../src/sql/identity-statements.js";

const HOSTILE = { schema: 'we"ird', name: "a; DROP TABLE x" };

describe("backup statements", () => {
  it("should read the database identity without values", () => {
    expect(databaseIdentity().values).toEqual([]);
    expect(databaseIdentity().text).toContain("FROM pg_catalog.pg_control_system() s, pg_catalog.pg_database d");
  });

  it("should pass partitioned tables' names as bind parameters", () => {
    const s = partitionLeaves([HOSTILE, { schema: "public", name: "readings" }]);
    expect(s.values).toEqual([
      ['we"ird', "public"],
      ["a; DROP TABLE x", "readings"],
    ]);
    expect(s.text).not.toContain("DROP TABLE");
  });

  it("should name restored tables only through quoted identifiers, with no values, for a psql session", () => {
    const s = referencingForeignKeys([HOSTILE]);
    expect(s.values).toEqual([]);
    expect(s.text).toContain('pg_typeof(NULL::"we""ird"."a; DROP TABLE x")::oid');
    expect(s.text).toContain("con.conparentid = 0");
  });

  it("should drop and re-add an FK with quoted names, catching only foreign_key_violation", () => {
    expect(dropConstraint(HOSTILE, 'fk"1')).toEqual({
      text: 'ALTER TABLE "we""ird"."a; DROP TABLE x" DROP CONSTRAINT "fk""1"',
      values: [],
    });
    expect(
      addForeignKeyUnlessViolated(
        { schema: "public", name: "stats" },
        "stats_fk",
        "FOREIGN KEY (p) REFERENCES public.players(id)",
        "atomic_etl_ab12",
      ),
    ).toEqual({
      text: 'DO $atomic_etl_ab12$ BEGIN ALTER TABLE "public"."stats" ADD CONSTRAINT "stats_fk" FOREIGN KEY (p) REFERENCES public.players(id); EXCEPTION WHEN foreign_key_violation THEN NULL; END $atomic_etl_ab12$',
      values: [],
    });
    expect(() => addForeignKeyUnlessViolated(HOSTILE, "x$atomic_etl_ab12$", "FOREIGN KEY (p) REFERENCES t(id)", "atomic_etl_ab12")).toThrow(
      /tag/,
    );
  });

  it("should look for orphans with the child's key and FK columns as JSON, names quoted", () => {
    const s = orphanedRows({
      table: { schema: "public", name: "player_match_stats" },
      columns: ["player_id"],
      references: { schema: "public", name: "players" },
      referencedColumns: ["id"],
      key: ["id"],
    });
    expect(s).toEqual({
      text: `SELECT count(*) OVER () AS total, (SELECT row_to_json(k) FROM (SELECT c."id") k)::text AS key, (SELECT row_to_json(v) FROM (SELECT c."player_id") v)::text AS value
FROM "public"."player_match_stats" c
WHERE c."player_id" IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM "public"."players" p WHERE p."id" = c."player_id")
LIMIT 10`,
      values: [],
    });
  });
});
