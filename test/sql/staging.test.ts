import { describe, expect, it } from "vitest";
import { addForeignKey, commentOnTable, createStaging, doBlock, grant, setOptions } from "../../src/sql/ddl.js";
import { lockTables } from "../../src/sql/locks.js";
import { deleteInScope, finalOrphans, insertFromStage, rowsOutsideScope } from "../../src/sql/staging.js";

const players = { schema: "public", name: "players" };
const stage = { schema: "pg_temp", name: "atomic_etl_stage_players" };

describe("staging statements", () => {
  it("should create a TEMP staging table with defaults, checks and generated columns, dropped at COMMIT", () => {
    expect(createStaging("atomic_etl_stage_players", players, { constraints: true })).toEqual({
      text: 'CREATE TEMP TABLE "atomic_etl_stage_players" (LIKE "public"."players" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED) ON COMMIT DROP',
      values: [],
    });
  });

  it("should pass scope values as bind parameters and treat NULL as outside the scope", () => {
    expect(deleteInScope(players, { dataset: "eu", 'we"ird': 3 })).toEqual({
      text: 'DELETE FROM "public"."players" t WHERE (t."dataset" = $1 AND t."we""ird" = $2)',
      values: ["eu", 3],
    });
    expect(rowsOutsideScope(stage, { dataset: "eu" })).toEqual({
      text: 'SELECT "dataset" FROM "pg_temp"."atomic_etl_stage_players" s WHERE (s."dataset" = $1) IS NOT TRUE LIMIT 5',
      values: ["eu"],
    });
  });

  it("should number the parameters of both scopes of a final-state FK check in order", () => {
    const s = finalOrphans(
      { table: { schema: "public", name: "readings" }, stage: { schema: "pg_temp", name: "r" }, scope: { dataset: "eu" } },
      ["station_id"],
      { table: { schema: "public", name: "stations" }, stage: { schema: "pg_temp", name: "s" }, scope: { region: "north" } },
      ["id"],
    );
    expect(s.values).toEqual(["eu", "north"]);
    expect(s.text).toContain('t."dataset" = $1');
    expect(s.text).toContain('t."region" = $2');
  });

  it("should fill identity columns left empty from the sequence, overriding the system value", () => {
    expect(insertFromStage(players, stage, ["id", "name"], [{ column: "id", sequence: "public.players_id_seq" }])).toEqual({
      text: 'INSERT INTO "public"."players" ("id", "name") OVERRIDING SYSTEM VALUE SELECT COALESCE("id", nextval($1::regclass)), "name" FROM "pg_temp"."atomic_etl_stage_players"',
      values: ["public.players_id_seq"],
    });
  });

  it("should lock several tables in one statement", () => {
    expect(lockTables([players, { schema: "public", name: "teams" }], "ROW EXCLUSIVE").text).toBe(
      'LOCK TABLE "public"."players", "public"."teams" IN ROW EXCLUSIVE MODE',
    );
  });

  it("should spell out a foreign key with its actions, match type and deferrability", () => {
    const fk = {
      name: "players_team_id_fkey",
      columns: ["team_id"],
      referencedColumns: ["id"],
      onUpdate: "c",
      onDelete: "n",
      onDeleteColumns: ["team_id"],
      matchFull: true,
      deferrable: true,
      initiallyDeferred: false,
    };
    expect(addForeignKey(players, fk, { schema: "public", name: "atomic_etl_swap_teams" }).text).toBe(
      'ALTER TABLE "public"."players" ADD CONSTRAINT "players_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "public"."atomic_etl_swap_teams" ("id") MATCH FULL ON UPDATE CASCADE ON DELETE SET NULL ("team_id") DEFERRABLE INITIALLY IMMEDIATE',
    );
  });

  it("should write DDL literals with quotes and backslashes escaped", () => {
    expect(commentOnTable(players, `it's a \\ "test"`).text).toBe(`COMMENT ON TABLE "public"."players" IS E'it''s a \\\\ "test"'`);
    expect(setOptions(players, null, [["fillfactor", "70"]]).text).toBe(`ALTER TABLE "public"."players" SET ("fillfactor" = E'70')`);
  });

  it("should grant only known privileges, to a quoted role or PUBLIC", () => {
    expect(grant(players, "SELECT", null, { grantable: false }).text).toBe('GRANT SELECT ON TABLE "public"."players" TO PUBLIC');
    expect(grant(players, "UPDATE", "app", { columns: ["name"], grantable: true }).text).toBe(
      'GRANT UPDATE ("name") ON TABLE "public"."players" TO "app" WITH GRANT OPTION',
    );
    expect(() => grant(players, "SELECT; DROP TABLE x", "app", { grantable: false })).toThrow(/unknown table privilege/);
  });

  it("should run parameterless statements in one DO block whose dollar-quote tag the body does not contain", () => {
    const weird = { schema: "public", name: "x$atomic_etl$y" };
    expect(doBlock([lockTables([players], "ACCESS EXCLUSIVE"), lockTables([weird], "ACCESS EXCLUSIVE")]).text).toBe(
      'DO $atomic_etl_1$\nBEGIN\n  LOCK TABLE "public"."players" IN ACCESS EXCLUSIVE MODE;\n  LOCK TABLE "public"."x$atomic_etl$y" IN ACCESS EXCLUSIVE MODE;\nEND\n$atomic_etl_1$',
    );
    expect(() => doBlock([deleteInScope(players, { dataset: "eu" })])).toThrow(/no bind parameters/);
  });
});
