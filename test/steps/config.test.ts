import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";
import { prismaClient } from "../fixtures/core/kit.js";

const issuesOf = (releases: unknown): string[] => {
  try {
    parseConfig({ client: prismaClient, releases }, "/p");
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return [];
};

const run = async () => undefined;

describe("steps and transforms in the config", () => {
  it("should take a release of steps only, defaulting writes to none and the position to after", () => {
    const c = parseConfig({ client: prismaClient, releases: { s: { steps: [{ name: "a", run }] } } }, "/p");
    expect(c.releases.s?.tables).toEqual([]);
    expect(c.releases.s?.steps).toEqual([{ name: "a", run, writes: [], at: "after" }]);
  });

  it("should refuse a release with neither tables nor steps, a step after a table it does not load, a step name used twice", () => {
    expect(issuesOf({ empty: {} })).toEqual(["releases.empty.tables: a release needs at least one table or one step"]);
    const issues = issuesOf({
      r: {
        tables: [{ model: "Team", file: "teams.json" }],
        steps: [
          { name: "a", run, at: { after: "Player" } },
          { name: "a", run },
        ],
      },
    });
    expect(issues).toEqual([
      'releases.r.steps.0.at.after: "Player" is not a table of this release (give the model or table name of one of its files)',
      'releases.r.steps.1.name: step name "a" is used twice',
    ]);
  });

  it("should refuse a transform that is not a function", () => {
    expect(issuesOf({ r: { tables: [{ model: "Team", file: "teams.json", transform: "rename" }] } })).toEqual([
      "releases.r.tables.0.transform: expected a function (record, ctx) => record | record[] | null",
    ]);
  });
});
