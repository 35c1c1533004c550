/**
 * `npx tsx bench/fingerprint.ts [--rows 1000000] [--runs 3]`: the cost of the one fingerprint
 * function (src/db/fingerprint.ts) that preflight, the backup manifest, the post-rollback proof
 * and the post-restore proof all run.
 *
 * A throwaway cluster gets a table of `--rows` rows made by generate_series, shaped like
 * player_match_stats (ints, numeric, float, timestamptz). The script then times, warm:
 * - `count(*)`: the sequential scan alone;
 * - `fingerprintTable` in format 2 (the default: hash_record_extended of each row, floats and numerics by their binary form, mixed, a sum);
 * - the same in format 1 (md5 of each row's text), what fingerprints stored by older versions
 *   are compared in;
 * and prints the medians, rows/s and the table's size. Never asserts on time.
 */
import pg from "pg";
import { fingerprintTable } from "../src/db/fingerprint.js";
import { pgTx } from "../src/db/pg-client.js";
import { startThrowawayPostgres } from "../tools/harness/throwaway-postgres.js";
import { arg, median } from "./support.js";

const rows = Number(arg("rows", "1000000"));
const runs = Number(arg("runs", "3"));
const table = { schema: "public", name: "fingerprint_bench" };

const cluster = await startThrowawayPostgres();
try {
  const url = await cluster.createDatabase("bench");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`CREATE TABLE fingerprint_bench AS
      SELECT g AS id, (g % 5000) + 1 AS player_id, (g % 760) + 1 AS match_id, (g % 91)::smallint AS minutes_played,
             (g % 4)::smallint AS goals, (g % 3)::smallint AS assists, round(((g % 1000) / 100.0)::numeric, 2)::numeric(4, 2) AS rating,
             (g % 137) / 10.0::float8 AS distance_km, timestamptz '2026-01-01' + g * interval '1 second' AS created_at
      FROM generate_series(1, ${rows}) AS g`);
    await c.query("VACUUM ANALYZE fingerprint_bench");
    const [size] = (await c.query<{ s: string }>("SELECT pg_size_pretty(pg_table_size('fingerprint_bench')) AS s")).rows;
    const tx = pgTx(c);
    await fingerprintTable(tx, table); // warm the cache
    const scan: number[] = [];
    const fp: number[] = [];
    const md5: number[] = [];
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      await c.query("SELECT count(*) FROM fingerprint_bench");
      scan.push(performance.now() - t);
      t = performance.now();
      await fingerprintTable(tx, table);
      fp.push(performance.now() - t);
      t = performance.now();
      await fingerprintTable(tx, table, 1);
      md5.push(performance.now() - t);
    }
    const ms = median(fp);
    const report = {
      rows,
      tableSize: size?.s,
      runs,
      countStarMs: Math.round(median(scan)),
      fingerprintMs: Math.round(ms),
      fingerprintRowsPerSecond: Math.round(rows / (ms / 1000)),
      fingerprintOverScan: Number((ms / median(scan)).toFixed(1)),
      format1Ms: Math.round(median(md5)),
      format1OverFormat2: Number((median(md5) / ms).toFixed(1)),
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await c.end();
  }
} finally {
  await cluster.stop();
}
