import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { clone, nextRelease, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";
import { ledgerRows, recordAsFormat1 } from "./support.js";

const { db, ws } = useTestProject({ release: true });
const etl = (strategy?: "staged-delete") => new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, ...(strategy ? { strategy } : {}) } }));
const backups = async () => (await readdir(ws.backupDir).catch(() => [])).filter((f) => f.endsWith(".dump"));

describe("idempotent redeploys", () => {
  it("should do nothing for an identical redeploy: outcome unchanged, no backup, no transaction, and say why", async () => {
    const first = await etl().import({ release: "r", url: db.url });
    const state = await stateOf(db.url);
    const dumps = await backups();
    const again = await etl().import({ release: "r", url: db.url });
    expect(again.outcome).toBe("unchanged");
    expect(again.error).toBeNull();
    expect(again.txid).toBeNull();
    expect(again.backup).toBeNull();
    expect(again.unchanged?.since.runId).toBe(first.runId);
    expect(again.unchanged?.reason).toContain(`run ${first.runId}`);
    expect(await backups()).toEqual(dumps);
    expect(await stateOf(db.url)).toEqual(state);
    expect((await ledgerRows(db.url)).map((r) => r.run_id)).toEqual([first.runId]);
    // no transaction: no phase of the transaction ever ran
    expect(Object.keys(again.phases)).not.toContain("load");
  });

  it("should still see an identical redeploy when the last deploy's fingerprints are in an older format", async () => {
    const first = await etl().import({ release: "r", url: db.url, backup: false });
    await recordAsFormat1(db.url);
    const again = await etl().import({ release: "r", url: db.url });
    expect(again.outcome).toBe("unchanged");
    expect(again.unchanged?.since.runId).toBe(first.runId);
    await sql(db.url, "UPDATE teams SET founded = 1900 WHERE id = 20");
    const real = await etl().import({ release: "r", url: db.url, backup: false });
    expect(real.outcome).toBe("committed");
  });

  it("should run for real when a file changed since the last deploy", async () => {
    await etl().import({ release: "r", url: db.url, backup: false });
    const files = clone(nextRelease());
    (files["teams.json"] as Record<string, unknown>[])[0]!.name = "Arsenal FC";
    await ws.writeRelease("r", files);
    const again = await etl().import({ release: "r", url: db.url, backup: false });
    expect(again.outcome).toBe("committed");
    expect((await sql<{ name: string }>(db.url, "SELECT name FROM teams WHERE id = 10"))[0]?.name).toBe("Arsenal FC");
  });

  it("should run for real when a target was changed by hand since the last deploy, and put the release back", async () => {
    await etl().import({ release: "r", url: db.url, backup: false });
    const deployed = await stateOf(db.url);
    await sql(db.url, "UPDATE players SET full_name = 'Someone Else' WHERE id = 100");
    const again = await etl().import({ release: "r", url: db.url, backup: false });
    expect(again.outcome).toBe("committed");
    expect(await stateOf(db.url)).toEqual(deployed);
    // and now it is a no-op again
    expect((await etl().import({ release: "r", url: db.url, backup: false })).outcome).toBe("unchanged");
  });

  it("should run for real with --redeploy, and when the effective config changed", async () => {
    await etl().import({ release: "r", url: db.url, backup: false });
    expect((await etl().import({ release: "r", url: db.url, backup: false, redeploy: true })).outcome).toBe("committed");
    expect((await etl("staged-delete").import({ release: "r", url: db.url, backup: false })).outcome).toBe("committed");
    expect((await etl("staged-delete").import({ release: "r", url: db.url, backup: false })).outcome).toBe("unchanged");
  });

  it("should compare with the last committed deploy of the release in this environment only", async () => {
    await etl().import({ release: "r", url: db.url, backup: false });
    expect((await etl().import({ release: "r", url: db.url, env: "staging", backup: false })).outcome).toBe("committed");
    expect((await etl().import({ release: "r", url: db.url, env: "staging", backup: false })).outcome).toBe("unchanged");
  });
});
