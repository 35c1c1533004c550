/**
 * The floor of the set-based SQL path: the same `INSERT … SELECT FROM json_populate_recordset`
 * statements atomic-etl sends, over plain node-postgres, in one transaction, with no Prisma
 * and no validation. The gap between this and COPY is the server's (per-row INSERT vs COPY's
 * bulk path); the gap between this and atomic-etl is ours.
 * Usage: tsx bench/insert-select-floor.ts <releaseDir with column keys>   (DATABASE_URL set)
 */
import path from "node:path";
import pg from "pg";
import { readRecords } from "../src/sources/read-records.js";
import { insertBatch } from "../src/sql/bulk.js";
import { RELEASE_COLUMNS, RELEASE_TABLES } from "../scripts/release-generator.js";

const dir = process.argv[2] as string;
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
const started = performance.now();
let rows = 0;
await client.query("BEGIN");
for (const table of RELEASE_TABLES) {
  const q = { schema: "public", name: table };
  const columns = RELEASE_COLUMNS[table].map(([, c]) => c);
  for await (const b of readRecords(path.join(dir, `${table}.json`), { batchSize: 5000 })) {
    const s = insertBatch(q, q, columns, JSON.stringify(b.records));
    rows += (await client.query(s.text, s.values)).rowCount ?? 0;
  }
}
await client.query("COMMIT");
await client.end();
process.stdout.write(`${JSON.stringify({ rows, ms: Math.round(performance.now() - started) })}\n`);
