/**
 * The COPY tests' table: every type the COPY encoder has to get exactly right, in two
 * identical copies (one loaded by COPY, one by INSERT … SELECT), and the helpers that load a
 * release file into either through the real load path (`loadTable` inside a Prisma transaction).
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../../etl/generated/prisma/client.js";
import { readCatalog } from "../../src/db/catalog.js";
import { pgTx } from "../../src/db/pg-client.js";
import { execute, type PrismaClientLike } from "../../src/db/prisma-like.js";
import { readWriteTransaction } from "../../src/sql/session.js";
import type { ClientFactory } from "../../src/config/schema.js";
import { ToolClient } from "../../src/db/tool-client.js";
import type { TablePlan } from "../../src/planner/table-plan.js";
import { loadTable, type TableLoadResult } from "../../src/runner/load.js";
import { mapModel } from "../../src/validation/table-mapping.js";

export const TYPES_SQL = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'wei"rd', 'with space', 'back\\slash', 'NULL', 'tab	in');
CREATE TABLE all_types (
  id int4 PRIMARY KEY,
  n numeric, n2 numeric(12,4), i8 int8, i2 int2, f8 float8, f4 float4, b bool,
  ts timestamp, tstz timestamptz, d date, j json, jb jsonb, e mood,
  ta text[], ia int4[], na numeric[], ea mood[], ba bool[], tsa timestamptz[],
  by bytea, t text, vc varchar(20), u uuid, iv interval,
  dflt text DEFAULT 'the default'
);
CREATE TABLE all_types_insert (LIKE all_types INCLUDING ALL);
`;

type Column =
  | "n"
  | "n2"
  | "i8"
  | "i2"
  | "f8"
  | "f4"
  | "b"
  | "ts"
  | "tstz"
  | "d"
  | "j"
  | "jb"
  | "e"
  | "ta"
  | "ia"
  | "na"
  | "ea"
  | "ba"
  | "tsa"
  | "by"
  | "t"
  | "vc"
  | "u"
  | "iv"
  | "dflt";

/** A JSON record written as text: each value is a JSON text fragment, kept verbatim in the file. */
export type RecordText = Partial<Record<Column, string>>;

export function releaseText(records: readonly RecordText[]): string {
  return `[\n${records
    .map(
      (r, id) =>
        `{"id":${id}${Object.entries(r)
          .map(([k, v]) => `,${JSON.stringify(k)}:${v}`)
          .join("")}}`,
    )
    .join(",\n")}\n]`;
}

/** The factory the README shows: Prisma over the adapter the tool hands it. */
export const newStyleClient = ({ adapter }: { adapter: PrismaPg }) => new PrismaClient({ adapter });
/** A factory written before the COPY path: it builds its own adapter from the URL. */
export const oldStyleClient = ({ url }: { url: string }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });

/** The table's plan as the runner builds it, over `file`, loading `all_types`' shape. */
export async function planOf(url: string, file: string, batchSize: number, table = "all_types"): Promise<TablePlan> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const info = (await readCatalog(pgTx(c), "public", [table])).get(table);
    if (!info) throw new Error(`no table ${table}`);
    const entry = {
      table,
      file: path.basename(file),
      keys: "auto",
      unknownKeys: "error",
      duplicateKeys: "error",
    } as unknown as TablePlan["entry"];
    const text = await import("node:fs/promises").then((f) => f.readFile(file));
    return {
      name: table,
      info,
      mapping: mapModel({ table }, undefined),
      entry,
      file: {
        entry: entry as never,
        path: file,
        file: path.basename(file),
        size: (await stat(file)).size,
        sha256: createHash("sha256").update(text).digest("hex"),
      },
      strategy: "direct",
      scope: null,
      merge: undefined,
      selfReferencing: false,
      batchSize,
      maxBatchBytes: 64 * 1024 * 1024,
    };
  } finally {
    await c.end();
  }
}

/** Loads the plan's file into `into` inside one transaction of `client`, and commits. */
export async function loadInto(client: PrismaClientLike, plan: TablePlan, into: string): Promise<TableLoadResult> {
  // as a run's transaction does first: the tool's pool opens its sessions read-only (see readOnlyByDefault)
  return client.$transaction(
    async (tx) => {
      await execute(tx, readWriteTransaction());
      return loadTable(tx, plan, { schema: "public", name: into });
    },
    { timeout: 120_000 },
  );
}

/** A client over the tool's pool, COPY checked (and on for the new-style factory). */
export async function toolClient(url: string, factory: ClientFactory = newStyleClient): Promise<ToolClient> {
  const t = await ToolClient.create(factory, url);
  await t.enableCopy();
  return t;
}

/** Every row of `table` as Postgres prints it, in id order. */
export async function rowTexts(url: string, table: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query("SET TimeZone = 'UTC'");
    const r = await c.query<{ row: string }>(`SELECT t::text AS row FROM ${table} t ORDER BY id`);
    return r.rows.map((x) => x.row);
  } finally {
    await c.end();
  }
}

export async function tempFile(text: string): Promise<{ file: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-copy-"));
  const file = path.join(dir, "all_types.json");
  await writeFile(file, text);
  return { file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
