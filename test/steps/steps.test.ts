import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { defineConfig } from "../../src/config/define-config.js";
import { parseConfig } from "../../src/config/load.js";
import type { TypedRelease } from "../../src/steps/typed-config.js";
import type { TransactionClientOf } from "../../src/steps/typed-config.js";
import type { PrismaClient } from "../../etl/generated/prisma/client.js";
import { failure, prismaClient, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject({ release: true });

type Tx = TransactionClientOf<PrismaClient>;

/** A config of typed releases (the user's client type flows into every step's tx). */
function etlOf(releases: Record<string, TypedRelease<Tx>>) {
  const config = defineConfig({ client: prismaClient, releasesDir: "releases", backupDir: "backups", releases });
  return new AtomicEtl(parseConfig(config, ws.root));
}

const txidOf = async (tx: Tx) => (await tx.$queryRawUnsafe<{ txid: string }[]>("SELECT txid_current()::text AS txid"))[0]?.txid;

describe("release steps", () => {
  it("should commit a typed step with the files in one transaction, at its declared positions", async () => {
    const seen: string[] = [];
    const txids = new Set<string | undefined>();
    const etl = etlOf({
      r: {
        tables: STANDARD_TABLES,
        steps: [
          {
            name: "count old leagues",
            at: "before",
            run: async ({ tx }) => {
              seen.push(`before: ${await tx.league.count()} leagues`);
              txids.add(await txidOf(tx));
            },
          },
          {
            name: "after teams",
            at: { after: "Team" },
            run: async ({ tx }) => {
              seen.push(`after Team: ${await tx.team.count()} teams, ${await tx.player.count()} players`);
              txids.add(await txidOf(tx));
            },
          },
          {
            name: "rename keeper",
            writes: ["Player", "leagues"],
            run: async ({ tx, env, release }) => {
              await tx.player.upsert({
                where: { id: 100 },
                update: { fullName: "Ada Renamed" },
                create: { id: 100, teamId: 10, fullName: "x", position: "GOALKEEPER", updatedAt: new Date() },
              });
              await tx.league.update({ where: { id: 2 }, data: { name: `${release}@${env}` } });
              txids.add(await txidOf(tx));
            },
          },
        ],
      },
    });
    const report = await etl.import({ release: "r", url: db.url });
    expect(report.outcome).toBe("committed");
    expect(seen).toEqual(["before: 2 leagues", "after Team: 4 teams, 0 players"]);
    expect([...txids]).toEqual([report.txid]);
    expect(await sql(db.url, "SELECT full_name FROM players WHERE id = 100")).toEqual([{ full_name: "Ada Renamed" }]);
    expect(await sql(db.url, "SELECT name FROM leagues WHERE id = 2")).toEqual([{ name: "r@local" }]);
    expect(await sql(db.url, "SELECT count(*)::int AS n FROM players")).toEqual([{ n: 6 }]);
  });

  it("should roll back the files too when a step throws, with STEP_FAILED naming the step and carrying its message and cause", async () => {
    const before = await stateOf(db.url);
    const boom = new Error("the legacy ETL broke");
    const etl = etlOf({
      r: {
        tables: STANDARD_TABLES,
        steps: [
          {
            name: "legacy",
            writes: ["Player"],
            run: async ({ tx }) => {
              await tx.player.update({ where: { id: 100 }, data: { fullName: "half done" } });
              throw boom;
            },
          },
        ],
      },
    });
    const f = await failure(etl.import({ release: "r", url: db.url }));
    expect(f.error).toMatchObject({ code: "STEP_FAILED", step: "step", data: "rolled back; database unchanged" });
    expect(f.error.exitCode).toBe(5);
    expect(f.error.message).toContain('step "legacy" failed: the legacy ETL broke');
    expect(f.error.meta.stepName).toBe("legacy");
    expect(f.error.cause).toBe(boom);
    expect(f.report.outcome).toBe("rolled back");
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should fail the step that swallowed a failed statement (the transaction is aborted) with STEP_FAILED", async () => {
    const before = await stateOf(db.url);
    const etl = etlOf({
      r: {
        tables: STANDARD_TABLES,
        steps: [
          {
            name: "swallower",
            writes: ["Player"],
            run: async ({ tx }) => {
              await tx.player
                .create({ data: { id: 100, teamId: 10, fullName: "twice", position: "DEFENDER", updatedAt: new Date() } })
                .catch(() => undefined);
            },
          },
        ],
      },
    });
    const f = await failure(etl.import({ release: "r", url: db.url, backup: false }));
    expect(f.error).toMatchObject({ code: "STEP_FAILED", data: "rolled back; database unchanged" });
    expect(f.error.message).toContain('step "swallower" failed: ');
    expect(f.error.message).toContain("current transaction is aborted");
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should catch a write to a table the step does not declare and roll back naming it", async () => {
    const before = await stateOf(db.url);
    const etl = etlOf({
      r: {
        tables: STANDARD_TABLES,
        steps: [
          {
            name: "sneaky",
            writes: ["League"],
            run: async ({ tx }) => {
              await tx.league.update({ where: { id: 1 }, data: { country: "UK" } });
              await tx.player.update({ where: { id: 101 }, data: { heightCm: 181 } });
            },
          },
        ],
      },
    });
    const f = await failure(etl.import({ release: "r", url: db.url, backup: false }));
    expect(f.error).toMatchObject({ code: "UNDECLARED_WRITE", table: "public.players", data: "rolled back; database unchanged" });
    expect(f.error.message).toContain('step "sneaky" wrote public.players');
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should catch an undeclared TRUNCATE (it resets the server's write counters) and an undeclared write through raw SQL", async () => {
    const before = await stateOf(db.url);
    const f = await failure(
      etlOf({}).run({
        url: db.url,
        writes: ["Player"],
        steps: async ({ tx }) => {
          await tx.$executeRawUnsafe("TRUNCATE player_match_stats");
        },
      }),
    );
    expect(f.error).toMatchObject({ code: "UNDECLARED_WRITE", table: "public.player_match_stats" });
    expect(await stateOf(db.url)).toEqual(before);
    // a statement that changed no row is not a write
    const ok = await etlOf({}).run({
      url: db.url,
      writes: ["Player"],
      steps: async ({ tx }) => void (await tx.$executeRawUnsafe("DELETE FROM matches WHERE false")),
    });
    expect(ok.outcome).toBe("committed");
    expect(await stateOf(db.url)).toEqual(before);
  });
});
