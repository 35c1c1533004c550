import { describe, expect, it } from "vitest";
import { tableDataEntries, useList } from "../../src/backup/toc.js";

const LIST = `;
; Archive created at 2026-11-21 21:27:50 UTC
;     Format: CUSTOM
;
215; 1259 16413 TABLE public leagues postgres
3387; 0 16413 TABLE DATA public leagues postgres
3390; 0 16430 TABLE DATA public matches postgres
3391; 0 16431 TABLE DATA public odd name with spaces app_owner
3389; 0 16423 TABLE DATA public teams postgres
3393; 0 16440 TABLE DATA audit log postgres
3394; 0 16441 TABLE DATA public measurements_2026_01 postgres
3401; 0 0 SEQUENCE SET public player_match_stats_id_seq postgres
`;

const pub = (...names: string[]) => names.map((name) => ({ schema: "public", name }));

describe("tableDataEntries", () => {
  it("should list the TABLE DATA entries, matching known names even when they hold spaces", () => {
    const entries = tableDataEntries(LIST, [
      ...pub("leagues", "matches", "teams", "odd name with spaces"),
      { schema: "audit", name: "log" },
    ]);
    expect(entries.map((e) => `${e.schema}.${e.name}`)).toEqual([
      "public.leagues",
      "public.matches",
      "public.odd name with spaces",
      "public.teams",
      "audit.log",
      "public.measurements_2026_01",
    ]);
    expect(entries[0]!.line).toBe("3387; 0 16413 TABLE DATA public leagues postgres");
  });

  it("should fall back to schema, name, owner for names it was not told about", () => {
    expect(tableDataEntries(LIST, []).map((e) => e.name)).toEqual([
      "leagues",
      "matches",
      "odd name with spaces",
      "teams",
      "log",
      "measurements_2026_01",
    ]);
  });
});

describe("useList", () => {
  it("should list the wanted tables' data lines in the given order, and nothing else", () => {
    const entries = tableDataEntries(LIST, pub("leagues", "matches", "teams"));
    expect(useList(entries, pub("leagues", "teams", "matches"))).toBe(
      "3387; 0 16413 TABLE DATA public leagues postgres\n3389; 0 16423 TABLE DATA public teams postgres\n3390; 0 16430 TABLE DATA public matches postgres\n",
    );
  });
});

describe("useList of partitions", () => {
  it("should list a partitioned table's leaf partitions, in the order given, from any schema", () => {
    const entries = tableDataEntries(LIST, [
      { schema: "public", name: "measurements_2026_01" },
      { schema: "audit", name: "log" },
    ]);
    expect(
      useList(entries, [
        { schema: "public", name: "measurements_2026_01" },
        { schema: "audit", name: "log" },
      ]),
    ).toBe("3394; 0 16441 TABLE DATA public measurements_2026_01 postgres\n3393; 0 16440 TABLE DATA audit log postgres\n");
  });
});
