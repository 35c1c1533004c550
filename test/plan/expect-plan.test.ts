import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { clone, failure, nextRelease, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";
import { ledgerRows } from "../ledger/support.js";

const { db, ws } = useTestProject({ release: true });
const etl = (strategy: "direct" | "staged-delete" = "direct") => new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, strategy } }));
const dumps = async () => (await readdir(ws.backupDir).catch(() => [])).filter((f) => f.endsWith(".dump"));

/** A plan, then a change made by `change`, then the import that expects the plan: refused, nothing touched, no backup taken. */
async function refusedAfter(change: () => Promise<unknown>, importer = etl()) {
  const plan = await etl().plan({ release: "r", url: db.url });
  await change();
  const before = await stateOf(db.url);
  const f = await failure(importer.import({ release: "r", url: db.url, expectPlan: plan.planHash as string }));
  expect(f.error).toMatchObject({ code: "PLAN_MISMATCH", data: "untouched", step: "preflight" });
  expect(f.error.exitCode).toBe(18);
  expect(f.error.meta).toMatchObject({ expected: plan.planHash });
  expect(await stateOf(db.url)).toEqual(before);
  expect(await dumps()).toEqual([]);
  return { plan, f };
}

describe("import --expect-plan", () => {
  it("should deploy the approved plan, and record its hash with the run", async () => {
    const plan = await etl().plan({ release: "r", url: db.url });
    const report = await etl().import({ release: "r", url: db.url, expectPlan: plan.planHash as string });
    expect(report.outcome).toBe("committed");
    expect(report.planHash).toBe(plan.planHash);
    expect((await ledgerRows(db.url))[0]?.plan_hash).toBe(plan.planHash);
  });

  it("should take the 12-digit prefix a plan's text shows", async () => {
    const plan = await etl().plan({ release: "r", url: db.url });
    expect((await etl().import({ release: "r", url: db.url, backup: false, expectPlan: plan.planHash?.slice(0, 12) })).outcome).toBe(
      "committed",
    );
  });

  it("should refuse when a release file changed since the plan", async () => {
    const files = clone(nextRelease());
    (files["players.json"] as Record<string, unknown>[])[0]!.heightCm = 150;
    const { f } = await refusedAfter(() => ws.writeRelease("r", files));
    expect(f.error.message).toContain("does not describe this import any more");
  });

  it("should refuse when the database changed since the plan", async () => {
    await refusedAfter(() => sql(db.url, "UPDATE players SET height_cm = 150 WHERE id = 700"));
  });

  it("should refuse when the effective config changed since the plan", async () => {
    await refusedAfter(async () => undefined, etl("staged-delete"));
  });

  it("should refuse a plan made for another environment", async () => {
    const plan = await etl().plan({ release: "r", url: db.url, env: "staging" });
    const f = await failure(etl().import({ release: "r", url: db.url, backup: false, expectPlan: plan.planHash as string }));
    expect(f.error.code).toBe("PLAN_MISMATCH");
  });

  it("should refuse something that is not a plan hash with USAGE", async () => {
    const f = await failure(etl().import({ release: "r", url: db.url, expectPlan: "yes" }));
    expect(f.error).toMatchObject({ code: "USAGE", data: "untouched" });
  });
});

describe("import --expect-plan of a release with steps", () => {
  it("should refuse up front, since a plan does not run steps, touching nothing", async () => {
    const config = ws.config({
      r: { tables: STANDARD_TABLES, steps: [{ name: "noop", writes: ["Player"], run: async () => undefined }] },
    });
    const plan = await new AtomicEtl(config).plan({ release: "r", url: db.url });
    const before = await stateOf(db.url);
    const f = await failure(new AtomicEtl(config).import({ release: "r", url: db.url, expectPlan: plan.planHash as string }));
    expect(f.error).toMatchObject({ code: "USAGE", message: expect.stringContaining("has steps, which a plan does not run") });
    expect(await stateOf(db.url)).toEqual(before);
    expect(await dumps()).toEqual([]);
  });
});
