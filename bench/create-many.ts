/**
 * Baseline runner: what Prisma users do today. Loads the release with `createMany` in
 * chunks inside one interactive `$transaction`, in its own process so its memory is its own.
 * Usage: tsx bench/create-many.ts <releaseDir>   (DATABASE_URL in the environment)
 * Prints one JSON line: { rows, ms }.
 */
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { Prisma, PrismaClient } from "../etl/generated/prisma/client.js";
import { readRecords } from "../src/sources/read-records.js";

type Row = Record<string, unknown>;
const dir = process.argv[2] as string;
const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL as string }) });

// createMany needs Prisma's own value types: Date for DateTime, bigint for BigInt, DbNull for SQL NULL json.
const date = (v: unknown) =>
  typeof v === "string" ? new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.length === 10 ? `${v}T00:00:00` : v}Z`) : v;
const convert: Record<string, (r: Row) => Row> = {
  leagues: (r) => r,
  teams: (r) => r,
  players: (r) => ({
    ...r,
    birthDate: r.birthDate == null ? r.birthDate : date(r.birthDate),
    externalId: r.externalId == null ? r.externalId : BigInt(r.externalId as string),
    attributes: r.attributes === null ? Prisma.DbNull : r.attributes,
    updatedAt: date(r.updatedAt),
  }),
  matches: (r) => ({ ...r, kickoffAt: date(r.kickoffAt), localKickoff: r.localKickoff == null ? r.localKickoff : date(r.localKickoff) }),
  player_match_stats: (r) => ({
    ...r,
    distanceKm: typeof r.distanceKm === "string" ? Number(r.distanceKm) : r.distanceKm,
    createdAt: r.createdAt == null ? r.createdAt : date(r.createdAt),
  }),
};
const models = { leagues: "league", teams: "team", players: "player", matches: "match", player_match_stats: "playerMatchStat" } as const;

const started = performance.now();
let rows = 0;
await client.$transaction(
  async (tx) => {
    for (const [table, model] of Object.entries(models)) {
      for await (const b of readRecords(path.join(dir, `${table}.json`), { batchSize: 5000 })) {
        const data = (b.records as Row[]).map(convert[table] as (r: Row) => Row);
        rows += (await (tx[model] as unknown as { createMany(a: { data: Row[] }): Promise<{ count: number }> }).createMany({ data })).count;
      }
    }
  },
  { timeout: 3_600_000, maxWait: 60_000 },
);
await client.$disconnect();
process.stdout.write(`${JSON.stringify({ rows, ms: Math.round(performance.now() - started) })}\n`);
