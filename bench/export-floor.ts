/**
 * `npx tsx bench/export-floor.ts [--runs 3]` (BENCH_DATABASE_URL: a database holding the
 * example tables, e.g. after `npm run bench`): the floor of issue 11's (#14) export goal,
 * "≥ 0.8× pg_dump's rows/s". pg_dump writes each table's COPY text as it comes; a release is
 * JSON, one object per row, keys repeated, so the client must at least turn every COPY line
 * into an object text, hash it and write it. Side by side, medians of --runs, one process:
 *
 * 1. `pg_dump --data-only` of the five tables to a file: the reference;
 * 2. the same `COPY … TO STDOUT` drained by this process and thrown away (server + socket);
 * 3. 2 plus the least JSON possible: each line split at tabs and joined with its keys, every
 *    value bare (no escaping, no types: not even correct JSON for strings), thrown away;
 * 4. 3 plus sha256 and a write to a file, as the release needs;
 * 5. `psql \copy (SELECT row_to_json(t) …) TO file`: the server builds the JSON itself.
 *
 * Rows/s ratios against pg_dump are printed; nothing is asserted on time.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { execa } from "execa";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { libpqEnv, resolveClientTool } from "../src/backup/pg-tools.js";
import { arg, median, TABLES } from "./support.js";

const url = process.env.BENCH_DATABASE_URL;
if (!url) throw new Error("set BENCH_DATABASE_URL to a database holding the example tables");
const runs = Number(arg("runs", "3"));
const dir = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-export-floor-"));
const env = { ...process.env, ...libpqEnv(url) } as Record<string, string>;
const pgDump = await resolveClientTool("pg_dump");
const psql = await resolveClientTool("psql");

const client = new pg.Client({ connectionString: url });
await client.connect();
const columns = new Map<string, string[]>();
for (const t of TABLES) {
  const r = await client.query<{ attname: string }>(
    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    [t],
  );
  columns.set(
    t,
    r.rows.map((x) => x.attname),
  );
}
const rows = Number((await client.query(`SELECT ${TABLES.map((t) => `(SELECT count(*) FROM "${t}")`).join(" + ")} AS n`)).rows[0].n);

type Level = "drain" | "json" | "file";
async function copyOut(level: Level): Promise<void> {
  for (const t of TABLES) {
    const keys = (columns.get(t) as string[]).map((c, i) => `${i ? "," : "{"}"${c}":`);
    const hash = createHash("sha256");
    const out = level === "file" ? createWriteStream(path.join(dir, `${t}.ndjson`)) : null;
    const decoder = new StringDecoder("utf8");
    let rest = "";
    for await (const chunk of client.query(copyTo(`COPY "${t}" TO STDOUT`)) as AsyncIterable<Buffer>) {
      if (level === "drain") continue;
      const text = rest + decoder.write(chunk);
      let json = "";
      let from = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
        const fields = text.slice(from, nl).split("\t");
        let line = "";
        for (let i = 0; i < fields.length; i++) line += (keys[i] as string) + (fields[i] as string);
        json += `${line}}\n`;
        from = nl + 1;
      }
      rest = text.slice(from);
      if (out) {
        const b = Buffer.from(json);
        hash.update(b);
        if (!out.write(b)) await new Promise<void>((r) => out.once("drain", () => r()));
      }
    }
    if (out) await new Promise<void>((r) => out.end(() => r()));
  }
}

const runners: Record<string, () => Promise<unknown>> = {
  "pg_dump --data-only (the reference)": () =>
    execa(pgDump.path, ["--data-only", ...TABLES.flatMap((t) => ["-t", t]), "-f", path.join(dir, "dump.sql")], { env }),
  "COPY TO STDOUT, drained, thrown away": () => copyOut("drain"),
  "+ the least JSON (split, join with keys), thrown away": () => copyOut("json"),
  "+ sha256 and the file write": () => copyOut("file"),
  "psql \\copy (SELECT row_to_json(t) …) TO file": async () => {
    for (const t of TABLES)
      await execa(psql.path, ["-X", "-q", "-c", `\\copy (SELECT row_to_json(t) FROM "${t}" t) TO '${path.join(dir, `${t}.rtj`)}'`], {
        env,
      });
  },
};
const times = new Map<string, number[]>();
for (let i = 0; i < runs; i++) {
  const order = i % 2 ? Object.entries(runners).reverse() : Object.entries(runners);
  for (const [name, run] of order) {
    const t0 = performance.now();
    await run();
    times.set(name, [...(times.get(name) ?? []), performance.now() - t0]);
  }
}
await client.end();
await rm(dir, { recursive: true, force: true });
const ref = median(times.get("pg_dump --data-only (the reference)") as number[]);
console.log(`rows: ${rows}; medians of ${runs} runs`);
console.table(
  [...times].map(([runner, ms]) => ({
    runner,
    ms: Math.round(median(ms)),
    "rows/s": Math.round(rows / (median(ms) / 1000)),
    "× pg_dump rows/s": Number((ref / median(ms)).toFixed(2)),
  })),
);
