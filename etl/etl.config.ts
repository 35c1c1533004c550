import { PrismaPg } from "@prisma/adapter-pg";
import { z } from "zod";
import { defineConfig } from "../src/index.js";
import { PrismaClient } from "./generated/prisma/client.js";

/**
 * Example config of the sports-statistics app (prisma/schema.prisma).
 * The connection URL comes from DATABASE_URL (or the variable named per environment below).
 */
export default defineConfig({
  client: ({ url }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }),
  // paths resolve from this file's folder: etl/releases, and the repository's git-ignored backups/
  releasesDir: "releases",
  backupDir: "../backups",
  databaseUrlEnv: { production: "DATABASE_URL" },
  environments: {
    production: { keepBackups: 30 },
  },
  releases: {
    "league-2026": {
      tables: [
        { model: "League", file: "leagues.json" },
        {
          model: "Team",
          file: "teams.json",
          // Runs on each record before validation: the old system pads team names.
          transform: (team) => ({ ...team, name: String(team.name).replace(/\s+/g, " ").trim() }),
        },
        {
          model: "Player",
          file: "players.json",
          // Business rules on top of the column types derived from the database.
          schema: z.looseObject({ heightCm: z.number().int().min(140).max(230).nullish() }),
        },
        { model: "Match", file: "matches.json" },
        { model: "PlayerMatchStat", file: "player_match_stats.json" },
      ],
      steps: [
        {
          // Your own Prisma code, in the same transaction as the files; `tx` is this client's
          // typed transaction client. It declares what it writes: in the backup and the proof.
          name: "score unreported finished matches 0-0",
          writes: ["Match"],
          run: async ({ tx, log }) => {
            const home = await tx.match.updateMany({ where: { status: "FINISHED", homeGoals: null }, data: { homeGoals: 0 } });
            const away = await tx.match.updateMany({ where: { status: "FINISHED", awayGoals: null }, data: { awayGoals: 0 } });
            log.info({ home: home.count, away: away.count }, "scored unreported finished matches");
          },
        },
      ],
      checks: [
        {
          name: "a team never plays itself",
          sql: `SELECT id FROM matches WHERE home_team_id = away_team_id`,
        },
        {
          name: "every league has teams",
          run: async (tx) => {
            const rows = await tx.$queryRawUnsafe<{ n: bigint }[]>(
              "SELECT count(*) AS n FROM leagues l WHERE NOT EXISTS (SELECT 1 FROM teams t WHERE t.league_id = l.id)",
            );
            return rows[0]?.n === 0n || `${rows[0]?.n} league(s) without teams`;
          },
        },
      ],
    },
    "league-2026-hotfix": {
      tables: [
        { model: "League", file: "leagues.json" },
        { model: "Team", file: "teams.json" },
        { model: "Player", file: "players.json" },
        { model: "Match", file: "matches.json" },
        { model: "PlayerMatchStat", file: "player_match_stats.json" },
      ],
    },
  },
});
