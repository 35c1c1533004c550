import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { defineConfig } from "../../src/config/define-config.js";
import { parseConfig } from "../../src/config/load.js";
import { failure, prismaClient, sql, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

// the config's client type types every step's tx (AtomicEtl<PrismaClient>, inferred)
const etl = () => new AtomicEtl(defineConfig({ client: prismaClient, backupDir: "backups", releases: {} }), { root: ws.root });

async function* players(bad?: number) {
  for (let i = 0; i < 5; i++) {
    yield { id: 900 + i, teamId: 70, fullName: `Gen ${i}`, position: i === bad ? "GOALIE" : "FORWARD", updatedAt: "2026-04-01T00:00:00Z" };
    await new Promise((r) => setImmediate(r));
  }
}

describe("etl.run (an existing ETL, no release files)", () => {
  it("should load records from an async generator through the file path, back up the written table, and commit", async () => {
    const report = await etl().run({
      name: "nightly",
      url: db.url,
      writes: ["Player"],
      batchSize: 2,
      steps: [
        {
          name: "import players",
          run: async ({ load, tx }) => {
            const r = await load("Player", players());
            expect(r).toEqual({ table: "players", records: 5, rows: 5, batches: 3 });
            await tx.player.update({ where: { id: 700 }, data: { heightCm: 186 } });
          },
        },
      ],
    });
    expect(report.outcome).toBe("committed");
    expect(await sql(db.url, "SELECT count(*)::int AS n FROM players WHERE id >= 900")).toEqual([{ n: 5 }]);
    expect(await sql(db.url, "SELECT height_cm FROM players WHERE id = 700")).toEqual([{ height_cm: 186 }]);
    // the backup covers the table the steps write, with its fingerprint from before
    const manifests = (await readdir(ws.backupDir)).filter((n) => n.endsWith(".manifest.json"));
    expect(manifests).toHaveLength(1);
    const manifest = JSON.parse(await readFile(path.join(ws.backupDir, manifests[0] as string), "utf8")) as {
      release: string;
      tables: Record<string, { rows: number }>;
    };
    expect(manifest.release).toBe("nightly");
    expect(Object.keys(manifest.tables)).toEqual(["players"]);
    expect(manifest.tables.players?.rows).toBe(2);
  });

  it("should load a plain array under the environment it is given, and commit", async () => {
    const report = await etl().run({
      name: "hotfix",
      env: "staging",
      url: db.url,
      writes: ["League"],
      steps: async ({ load, env }) => {
        expect(env).toBe("staging");
        const r = await load("League", [
          { id: 30, code: "ARR", name: "Array League", country: "Here", season: 2026 },
          { id: 31, code: "AR2", name: "Array League 2", country: "There", season: 2026 },
        ]);
        expect(r).toMatchObject({ table: "leagues", records: 2, rows: 2 });
      },
    });
    expect(report).toMatchObject({ outcome: "committed", environment: "staging", environmentChosenBy: expect.stringContaining("env") });
    expect(report.backup).not.toBeNull();
    expect(await sql(db.url, "SELECT id, name FROM leagues WHERE id >= 30 ORDER BY id")).toEqual([
      { id: 30, name: "Array League" },
      { id: 31, name: "Array League 2" },
    ]);
  });

  it("should refuse a bad record of load() like a file's, naming the step and the record's index, and change nothing", async () => {
    const before = await stateOf(db.url);
    const f = await failure(
      etl().run({
        url: db.url,
        writes: ["Player"],
        batchSize: 2,
        steps: [{ name: "gen", run: async ({ load }) => void (await load("Player", players(3))) }],
      }),
    );
    expect(f.error).toMatchObject({
      code: "VALIDATION_FAILED",
      step: "step",
      file: 'step "gen" load(Player)',
      record: 3,
      field: "position",
      table: "players",
      data: "rolled back; database unchanged",
    });
    expect(f.error.meta.stepName).toBe("gen");
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should refuse load() into a table the step does not declare", async () => {
    const f = await failure(etl().run({ url: db.url, writes: ["Player"], steps: async ({ load }) => void (await load("Team", [])) }));
    expect(f.error).toMatchObject({ code: "UNDECLARED_WRITE", table: "Team", data: "rolled back; database unchanged" });
  });

  it("should prove the rollback against the declared tables: another session's commit there is kept and reported", async () => {
    const f = await failure(
      etl().run({
        url: db.url,
        writes: ["players"],
        steps: async ({ tx }) => {
          await tx.player.create({ data: { id: 990, teamId: 70, fullName: "Doomed", position: "DEFENDER", updatedAt: new Date() } });
          await sql(db.url, "UPDATE players SET height_cm = 150 WHERE id = 701");
          throw new Error("after someone else's commit");
        },
      }),
    );
    expect(f.error).toMatchObject({ code: "STEP_FAILED", data: "rolled back; concurrent changes kept" });
    expect(f.report.warnings).toEqual([expect.objectContaining({ code: "CONCURRENT_CHANGES", tables: ["players"] })]);
    expect(await sql(db.url, "SELECT id, height_cm FROM players WHERE id IN (701, 990)")).toEqual([{ id: 701, height_cm: 150 }]);
  });

  it("should refuse up front, touching nothing, without writes or under a configured release's name", async () => {
    const none = await failure(etl().run({ url: db.url, writes: [], steps: async () => undefined }));
    expect(none.error).toMatchObject({ code: "USAGE", data: "untouched" });
    const taken = new AtomicEtl(
      parseConfig(
        defineConfig({ client: prismaClient, releases: { run: { tables: [{ model: "League", file: "leagues.json" }] } } }),
        ws.root,
      ),
    );
    const clash = await failure(taken.run({ url: db.url, writes: ["League"], steps: async () => undefined }));
    expect(clash.error).toMatchObject({ code: "USAGE", data: "untouched" });
    expect(clash.error.message).toContain("is a release of the config");
  });
});
