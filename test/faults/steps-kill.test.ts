/**
 * kill -9 of the CLI while a release step is inside the run's transaction: the server rolls
 * the transaction back when the connection drops, so the database is exactly as before
 * (fingerprints and rows), and the next run takes the lock and commits.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { outcomeOf } from "../../src/backup/backup-scope.js";
import { pickLatest } from "../../src/backup/latest.js";
import { listBackups } from "../../src/backup/retention.js";
import { silentLogger } from "../../src/reporting/logger.js";
import { linkNodeModules, REPO_ROOT, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";
import { spawnCli } from "./support/spawn-run.js";

const { db, ws } = useTestProject({ release: true });

const configText = (root: string) => `
import { defineConfig } from ${JSON.stringify(path.join(REPO_ROOT, "src/index.ts"))};
import { PrismaClient } from ${JSON.stringify(path.join(REPO_ROOT, "etl/generated/prisma/client.ts"))};

export default defineConfig({
  client: ({ adapter }) => new PrismaClient({ adapter }),
  releasesDir: ${JSON.stringify(path.join(root, "releases"))},
  backupDir: ${JSON.stringify(path.join(root, "backups"))},
  releases: {
    r: {
      tables: ${JSON.stringify(STANDARD_TABLES)},
      steps: [
        {
          name: "slow legacy ETL",
          writes: ["Player", "League"],
          run: async ({ tx, load, log }) => {
            await tx.player.updateMany({ data: { heightCm: 150 } });
            await load("League", [{ id: 5, code: "NEW", name: "New League", country: "Nowhere", season: 2026 }]);
            log.info({ marker: "step holding" }, "holding inside the transaction");
            await new Promise((resolve) => setTimeout(resolve, 120_000));
          },
        },
      ],
    },
  },
});
`;

/** Until no session of the database is still inside a transaction (the dead client's backend has rolled back and gone). */
async function settled(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [r] = await sql<{ n: number }>(
      url,
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL",
    );
    if (r?.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("a transaction outlived its killed client");
}

describe("kill -9 during a step", () => {
  it("should leave the database exactly as before and its backup pending, never `latest`, and let the next run commit", async () => {
    const config = path.join(ws.root, "etl.config.ts");
    await writeFile(config, configText(ws.root));
    await linkNodeModules(ws.root);
    const before = await stateOf(db.url);
    const run = spawnCli(["import", "r", "--config", config], { DATABASE_URL: db.url });
    await run.waitFor((l) => l.marker === "step holding");
    // the run is inside its transaction (reading the tables would wait on its TRUNCATE's lock)
    const [open] = await sql<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'",
    );
    expect(open?.n).toBeGreaterThan(0);
    run.kill();
    const result = await run.done;
    expect(result.signal).toBe("SIGKILL");
    await settled(db.url);
    expect(await stateOf(db.url)).toEqual(before);
    // the killed run's backup stays pending (it never sent COMMIT): never `latest`
    const killed = await listBackups(ws.backupDir);
    expect(killed.map((b) => outcomeOf(b.manifest))).toEqual(["pending"]);
    expect((await pickLatest(killed, db.url, silentLogger())).latest).toBeUndefined();
    const next = await new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({ release: "r", url: db.url });
    expect(next.outcome).toBe("committed");
    const after = await listBackups(ws.backupDir);
    expect((await pickLatest(after, db.url, silentLogger())).latest?.manifest.id).toBe(next.backup?.id);
  }, 180_000);
});
