import type { Logger } from "pino";
/**
 * Shared pieces of the export/sample tests: a workspace whose config has samples, runs of
 * export/sample against a source URL, imports of the produced directory into a fresh
 * database (through the real runner, every FK on), and row/fingerprint readers that use a
 * plain `pg` connection, never the code under test.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { exportRelease } from "../../src/commands/export.js";
import { sample, type SampleOptions } from "../../src/commands/sample.js";
import type { LoadedConfig } from "../../src/config/load.js";
import { parseConfig } from "../../src/config/load.js";
import type { ConfigInput } from "../../src/config/schema.js";
import { fingerprintTables } from "../../src/db/fingerprint.js";
import { connect, pgTx } from "../../src/db/pg-client.js";
import type { ReleaseManifest } from "../../src/release/manifest.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { prismaClient, sql, type Workspace } from "../fixtures/core/kit.js";

export { sql };

export const SECRET = "test-secret-0123456789abcdef";

/** A config over `ws`, with samples and releases, parsed as loadConfig would. */
export function sampleConfig(ws: Workspace, extra: Partial<ConfigInput> = {}): LoadedConfig {
  return parseConfig({ client: prismaClient, releasesDir: "releases", backupDir: "backups", releases: {}, ...extra }, ws.root);
}

export async function runSample(config: LoadedConfig, url: string, o: Omit<SampleOptions, "url">) {
  return sample(config, { ...o, url });
}

export async function runExport(
  config: LoadedConfig,
  url: string,
  release: string,
  extra: { out?: string; force?: boolean; jobs?: number; logger?: Logger } = {},
) {
  return exportRelease(config, { release, url, ...extra });
}

/** Imports release `name` from the workspace into `url` through the real runner (no backup). */
export async function importRelease(config: LoadedConfig, url: string, name: string) {
  return new AtomicEtl(config).import({ release: name, url, backup: false });
}

/** Tables of the public schema, by name. */
export async function publicTables(url: string): Promise<string[]> {
  const rows = await sql<{ t: string }>(
    url,
    `SELECT relname AS t FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r','p') AND relname <> '_prisma_migrations' ORDER BY 1`,
  );
  return rows.map((r) => r.t);
}

export async function fingerprintsOf(url: string, tables: readonly string[]) {
  const c = await connect(url);
  try {
    return await fingerprintTables(
      pgTx(c),
      tables.map((name) => ({ schema: "public", name })),
    );
  } finally {
    await c.end();
  }
}

/** Every row of `table` as Postgres prints it, sorted. */
export async function rowsOf(url: string, table: string): Promise<string[]> {
  return (await sql<{ r: string }>(url, `SELECT t::text AS r FROM "${table}" t ORDER BY 1`)).map((r) => r.r);
}

export async function readManifest(dir: string): Promise<ReleaseManifest> {
  return JSON.parse(await readFile(path.join(dir, "release.json"), "utf8")) as ReleaseManifest;
}

/** Records of one NDJSON or JSON-array release file. */
export async function readRows(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, "utf8");
  if (file.endsWith(".json")) return JSON.parse(text) as Record<string, unknown>[];
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Nothing was written: no output directory and no temp directory beside it. */
export async function expectNothingWritten(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  const names = await readdir(parent).catch(() => [] as string[]);
  expect(names.filter((n) => n === path.basename(dir) || n.startsWith(`${path.basename(dir)}.tmp-`))).toEqual([]);
}

/** Every FK of every table of the database holds (a fresh import re-checks them; this proves it from outside). */
export async function orphanCount(url: string): Promise<number> {
  const fks = await sql<{ child: string; parent: string; cols: string[]; refs: string[] }>(
    url,
    `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
            (SELECT array_agg(a.attname::text ORDER BY k.o) FROM unnest(c.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS cols,
            (SELECT array_agg(a.attname::text ORDER BY k.o) FROM unnest(c.confkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) AS refs
       FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
        -- the FK as declared: its clones on partitions, and towards a partitioned parent's partitions, are parts of it
        AND c.conparentid = 0`,
  );
  let n = 0;
  for (const fk of fks) {
    const on = fk.cols.map((c, i) => `p."${fk.refs[i]}" = x."${c}"`).join(" AND ");
    const notNull = fk.cols.map((c) => `x."${c}" IS NOT NULL`).join(" AND ");
    const [r] = await sql<{ n: string }>(
      url,
      `SELECT count(*) AS n FROM ${fk.child} x WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p WHERE ${on})`,
    );
    n += Number(r?.n ?? 0);
  }
  return n;
}
