/**
 * The config every fault test uses: releases "A" and "B" (see release-fixture.ts) in
 * `releasesDir`, the example Prisma client, and per-environment overrides.
 *
 * @example
 * const etl = new AtomicEtl(parseConfig(faultConfig({ releasesDir, backupDir }), REPO_ROOT));
 */
import { PrismaClient } from "../../../etl/generated/prisma/client.js";
import type { ConfigInput } from "../../../src/config/schema.js";
import type { EnvironmentName, EnvironmentSettings } from "../../../src/config/environments.js";
import { RELEASE_FILES } from "./release-fixture.js";

export interface FaultConfigOptions {
  releasesDir: string;
  backupDir: string;
  environments?: Partial<Record<EnvironmentName, Partial<EnvironmentSettings>>>;
  /** Rows per batch for every table (small batches → many batches to kill in between). */
  batchSize?: number;
  /** Extra time spent in the validation checks, so a kill can land there. */
  checkSleepMs?: number;
}

export function faultConfig(o: FaultConfigOptions): ConfigInput {
  const tables = RELEASE_FILES.map((t) => ({ ...t, ...(o.batchSize ? { batchSize: o.batchSize } : {}) }));
  const checks = [
    { name: "a team never plays itself", sql: "SELECT id FROM matches WHERE home_team_id = away_team_id" },
    {
      name: "every stat line belongs to a player of one of the match's teams",
      sql: `SELECT s.id FROM player_match_stats s JOIN players p ON p.id = s.player_id JOIN matches m ON m.id = s.match_id
            WHERE p.team_id NOT IN (m.home_team_id, m.away_team_id)`,
    },
    // a slow check widens the validation window so that a timed fault can land in it
    ...(o.checkSleepMs ? [{ name: "slow check", sql: `SELECT 1 FROM pg_sleep(${o.checkSleepMs / 1000}) WHERE random() > 2` }] : []),
  ];
  return {
    client: ({ adapter }) => new PrismaClient({ adapter }),
    backupDir: o.backupDir,
    environments: o.environments ?? {},
    releases: {
      A: { dir: `${o.releasesDir}/A`, tables, checks },
      B: { dir: `${o.releasesDir}/B`, tables, checks },
    },
  };
}
