import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { restoreById } from "../../src/commands/restore.js";
import { formatStatus } from "../../src/cli/status-command.js";
import { status } from "../../src/commands/status.js";
import { clone, nextRelease, sql, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";
import { ledgerSchemaExists, recordAsFormat1 } from "./support.js";

const { db, ws } = useTestProject({ release: true });
const config = () => ws.config({ r: { tables: STANDARD_TABLES }, other: { tables: STANDARD_TABLES } });
const deploy = (backup = false) => new AtomicEtl(config()).import({ release: "r", url: db.url, backup });
const tableOf = async (table: string) =>
  (await status(config(), { url: db.url, release: "r" })).releases[0]?.tables.find((t) => t.table === table);

describe("status: drift", () => {
  it("should show every table in sync right after a deploy, with the deploy's hash, time and origin", async () => {
    const report = await deploy();
    const s = await status(config(), { url: db.url });
    expect(s.releases.map((r) => [r.release, r.inSync])).toEqual([
      ["r", true],
      ["other", null],
    ]);
    expect(s.releases[0]).toMatchObject({
      deployed: { runId: report.runId, contentHash: report.contentHash, planHash: report.planHash },
      filesChanged: [],
      restoredAfter: null,
    });
    expect(s.releases[0]?.tables.map((t) => t.state)).toEqual(["in sync", "in sync", "in sync", "in sync", "in sync"]);
    expect(formatStatus(s)).toContain("other: never deployed to local");
  });

  it("should count the rows an UPDATE, a DELETE and an INSERT changed by hand", async () => {
    await deploy();
    await sql(db.url, "UPDATE players SET full_name = full_name || ' (edited)' WHERE id IN (100, 101, 210)");
    expect(await tableOf("players")).toMatchObject({
      state: "drifted",
      rowsDiffer: 3,
      bucketsDiffer: 3,
      rowsNow: 6,
      rowsRecorded: 6,
      method: "buckets",
    });
    await sql(db.url, "DELETE FROM player_match_stats WHERE id IN (7, 8)");
    expect(await tableOf("player_match_stats")).toMatchObject({ state: "drifted", rowsDiffer: 2, rowsNow: 6, rowsRecorded: 8 });
    await sql(db.url, "INSERT INTO leagues (id, code, name, country, season) VALUES (99, 'NEW', 'New League', 'Nowhere', 2026)");
    expect(await tableOf("leagues")).toMatchObject({ state: "drifted", rowsDiffer: 1, rowsNow: 3 });
    expect(await tableOf("teams")).toMatchObject({ state: "in sync" });
    const text = formatStatus(await status(config(), { url: db.url, release: "r" }));
    expect(text).toContain("r: DRIFTED");
    expect(text).toContain("players: drifted, at least 3 rows differ (3 of 256 key buckets changed; 6 rows)");
    expect(text).toContain("leagues: drifted, at least 1 row differs (1 of 256 key buckets changed; rows 2 → 3)");
  });

  it("should compare in the format an older version recorded its fingerprints in (md5 of the row's text)", async () => {
    await deploy();
    await recordAsFormat1(db.url);
    expect((await status(config(), { url: db.url, release: "r" })).releases[0]?.inSync).toBe(true);
    await sql(db.url, "UPDATE players SET full_name = full_name || ' (edited)' WHERE id = 100");
    expect(await tableOf("players")).toMatchObject({ state: "drifted", rowsDiffer: 1, bucketsDiffer: 1, method: "buckets" });
    expect(await tableOf("teams")).toMatchObject({ state: "in sync" });
  });

  it("should be in sync again once the release is deployed again", async () => {
    await deploy();
    await sql(db.url, "UPDATE teams SET founded = 1900 WHERE id = 20");
    expect(await tableOf("teams")).toMatchObject({ state: "drifted", rowsDiffer: 1 });
    await deploy();
    expect((await status(config(), { url: db.url, release: "r" })).releases[0]?.inSync).toBe(true);
  });

  it("should name the release files that changed since the deploy", async () => {
    await deploy();
    const files = clone(nextRelease());
    (files["matches.json"] as Record<string, unknown>[])[0]!.attendance = 1;
    await ws.writeRelease("r", files);
    expect((await status(config(), { url: db.url, release: "r" })).releases[0]?.filesChanged).toEqual(["releases/r/matches.json"]);
  });

  it("should say when a restore came after the deploy", async () => {
    const report = await deploy(true);
    await restoreById(config(), { id: report.backup!.id, url: db.url });
    const r = (await status(config(), { url: db.url, release: "r" })).releases[0];
    expect(r?.restoredAfter?.backupId).toBe(report.backup!.id);
    expect(r?.inSync).toBe(false);
  });

  it("should read only: no ledger is created by asking", async () => {
    const s = await status(config(), { url: db.url });
    expect(s.releases.every((r) => r.deployed === null)).toBe(true);
    expect(await ledgerSchemaExists(db.url)).toBe(false);
  });
});

describe("status: tables only a step writes", () => {
  const stepConfig = () =>
    ws.config({
      s: {
        tables: STANDARD_TABLES.filter((t) => t.model === "Match"),
        steps: [
          {
            name: "rename a player",
            writes: ["Player"],
            run: async ({ tx }) => void (await tx.$executeRawUnsafe("UPDATE players SET full_name = 'Stepped' WHERE id = 700")),
          },
        ],
      },
    });

  it("should record a step-only table's fingerprint in the ledger and see drift in it", async () => {
    await ws.writeRelease("s", { "matches.json": [] });
    await sql(db.url, "DELETE FROM player_match_stats", "DELETE FROM matches");
    const report = await new AtomicEtl(stepConfig()).import({ release: "s", url: db.url, backup: false });
    expect(report.outcome).toBe("committed");
    const [row] = await sql<{ tables: { table: string; strategy: string; fingerprintAfter: { rows: number } | null }[] }>(db.url, {
      text: "SELECT tables FROM atomic_etl.runs WHERE run_id = $1",
      values: [report.runId],
    });
    expect(row?.tables.map((t) => [t.table, t.strategy, t.fingerprintAfter?.rows])).toEqual([
      ["matches", "direct", 0],
      ["players", "step", 2],
    ]);
    const players = async () =>
      (await status(stepConfig(), { url: db.url, release: "s" })).releases[0]?.tables.find((t) => t.table === "players");
    expect(await players()).toMatchObject({ state: "in sync" });
    await sql(db.url, "UPDATE players SET full_name = 'By hand' WHERE id = 701");
    expect(await players()).toMatchObject({ state: "drifted", rowsDiffer: 1 });
  });
});
