/**
 * `npm run bench:partitions`: a `scoped` replace of one month of a range-partitioned table,
 * partition-wise (TRUNCATE of the month's partition) against the DELETE-based scoped replace
 * of the same rows (partitionWise: false), alternating, in one run on one database.
 *
 *   npm run bench:partitions -- [--rows 1000000] [--months 12] [--runs 3]
 *
 * Reports wall time of the import, its final phase, and the dead rows each leaves behind.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../etl/generated/prisma/client.js";
import { AtomicEtl } from "../src/atomic-etl.js";
import { parseConfig } from "../src/config/load.js";
import { startThrowawayPostgres } from "../tools/harness/throwaway-postgres.js";
import { arg, median, withClient } from "./support.js";

const rows = Number(arg("rows", "1000000"));
const months = Number(arg("months", "12"));
const runs = Number(arg("runs", "3"));

const DDL = (m: number) => [
  "CREATE TABLE sale (sale_id bigint NOT NULL, sold_on date NOT NULL, store int NOT NULL, amount numeric(10,2) NOT NULL, note text, PRIMARY KEY (sold_on, sale_id)) PARTITION BY RANGE (sold_on)",
  ...Array.from({ length: m }, (_, i) => {
    const from = new Date(Date.UTC(2022, i, 1)).toISOString().slice(0, 10);
    const to = new Date(Date.UTC(2022, i + 1, 1)).toISOString().slice(0, 10);
    return `CREATE TABLE sale_m${i + 1} PARTITION OF sale FOR VALUES FROM ('${from}') TO ('${to}')`;
  }),
  "CREATE INDEX sale_store_idx ON sale (store)",
];

async function main() {
  const cluster = await startThrowawayPostgres();
  const root = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-bench-partitions-"));
  try {
    const url = await cluster.createDatabase("partitions");
    await withClient(url, async (c) => {
      for (const s of DDL(months)) await c.query(s);
      await c.query(
        `INSERT INTO sale SELECT g, DATE '2022-01-01' + ((g * 365::bigint / $1) % 365)::int, g % 50, (g % 1000) / 10.0, 'sale ' || g FROM generate_series(1, $1) g`,
        [rows],
      );
      await c.query("VACUUM ANALYZE sale");
    });
    // the release: March, with every amount changed
    const march = await withClient(url, (c) =>
      c.query<Record<string, unknown>>(
        "SELECT sale_id::text, sold_on::text, store, (amount + 1)::text AS amount, note FROM sale_m3 ORDER BY sale_id",
      ),
    );
    const dir = path.join(root, "march");
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "sale.json"), JSON.stringify(march.rows));
    process.stderr.write(`${rows} rows in ${months} partitions; the release replaces March: ${march.rows.length} rows\n`);
    const etl = (partitionWise: boolean) =>
      new AtomicEtl(
        parseConfig(
          {
            client: ({ url: u }: { url: string }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: u }) }),
            releasesDir: root,
            releases: {
              march: {
                strategy: "scoped",
                scope: { sold_on: { from: "2022-03-01", to: "2022-04-01" } },
                tables: [{ table: "sale", file: "sale.json", partitionWise }],
              },
            },
          },
          root,
        ),
      );
    const results: Record<string, { ms: number[]; applyMs: number[]; dead: number[] }> = {
      "partition-wise (TRUNCATE)": { ms: [], applyMs: [], dead: [] },
      "DELETE-based": { ms: [], applyMs: [], dead: [] },
    };
    // warm-up, untimed: the first import of a process also pays for loading Prisma's client
    await etl(true).import({ release: "march", url, backup: false, redeploy: true });
    for (let r = 0; r < runs; r++) {
      for (const [name, partitionWise] of (r % 2
        ? [
            ["DELETE-based", false],
            ["partition-wise (TRUNCATE)", true],
          ]
        : [
            ["partition-wise (TRUNCATE)", true],
            ["DELETE-based", false],
          ]) as [string, boolean][]) {
        await withClient(url, (c) => c.query("VACUUM sale"));
        const started = performance.now();
        const report = await etl(partitionWise).import({ release: "march", url, backup: false, redeploy: true });
        const ms = performance.now() - started;
        // each run replaces March again: one the ledger calls "unchanged" would time nothing
        if (report.outcome !== "committed") throw new Error(`${name}: outcome ${report.outcome}, not committed`);
        await new Promise((resolve) => setTimeout(resolve, 700)); // the import's backend has flushed its statistics
        const dead = await withClient(url, (c) =>
          c.query<{ n: string }>("SELECT COALESCE(sum(n_dead_tup), 0)::text AS n FROM pg_stat_user_tables WHERE relname LIKE 'sale%'"),
        );
        const d = dead.rows[0];
        const res = results[name] as { ms: number[]; applyMs: number[]; dead: number[] };
        res.ms.push(ms);
        res.applyMs.push(report.phases.apply ?? 0);
        res.dead.push(Number(d?.n ?? 0));
        process.stderr.write(`run ${r + 1}/${runs} ${name}: ${(ms / 1000).toFixed(2)} s, final phase ${report.phases.apply} ms\n`);
      }
    }
    const base = median(results["DELETE-based"]?.ms ?? []);
    process.stdout.write(`\n| runner | import | final phase | dead rows after | × DELETE-based |\n|---|---|---|---|---|\n`);
    for (const [name, r] of Object.entries(results)) {
      process.stdout.write(
        `| ${name} | ${(median(r.ms) / 1000).toFixed(2)} s | ${Math.round(median(r.applyMs))} ms | ${median(r.dead)} | ${(base / median(r.ms)).toFixed(2)} |\n`,
      );
    }
  } finally {
    await rm(root, { recursive: true, force: true });
    await cluster.stop();
  }
}

await main();
