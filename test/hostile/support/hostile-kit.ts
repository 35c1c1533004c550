/**
 * The hostile-input corpus: each case swaps one file of a valid base release for a hostile
 * one (test/hostile/corpus/files/, or generated at test time) or bends the config, and pins
 * the error code, a message substring, the file / record / field and the exit code.
 *
 * @example
 * const kit = await openHostileKit(url); const r = await kit.runLibrary(c); await kit.close();
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../../../etl/generated/prisma/client.js";
import { parseConfig } from "../../../src/config/load.js";
import type { ConfigInput } from "../../../src/config/schema.js";
import { AtomicEtl, RunFailed } from "../../../src/atomic-etl.js";
import { captureState, type DbState } from "../../faults/support/db-state.js";
import { sql } from "../../faults/support/fault-cluster.js";
import { REPO_ROOT } from "../../faults/support/paths.js";
import { releaseRecords, SMALL } from "../../faults/support/release-fixture.js";

export const CORPUS_DIR = path.resolve(import.meta.dirname, "../corpus");

export interface Expectation {
  code: string;
  /** A substring of the message. */
  message: string;
  /** 0-based record index, or null when the error is not about one record. */
  record: number | null;
  field: string | null;
  /** Whether the error names the release file (it ends with the file's name). */
  namesFile: boolean;
  exit: number;
}

export interface HostileCase {
  id: string;
  about: string;
  /** Table whose file is replaced. */
  target: string;
  /** File in corpus/files (absent when the test writes it). */
  file?: string;
  /** Extension of a file the test writes (default: the base file's). */
  ext?: string;
  /** Batch size of the target table. */
  batchSize?: number;
  /** Config bent instead of a file: table / model / schema names. */
  config?: { table?: string; model?: string; schema?: string };
  expect: Expectation;
}

/** The base release: the example model tables plus two tables the tests create. */
export const BASE_TABLES = [
  { model: "League", table: "leagues", file: "leagues.json" },
  { model: "Team", table: "teams", file: "teams.json" },
  { model: "Player", table: "players", file: "players.json" },
  { model: "Match", table: "matches", file: "matches.json" },
  { model: "PlayerMatchStat", table: "player_match_stats", file: "player_match_stats.json" },
  { table: "hostile_notes", file: "hostile_notes.json" },
  { table: "hostile_tree", file: "hostile_tree.ndjson" },
] as const;

export const ALL_TABLES = BASE_TABLES.map((t) => t.table);

export const HOSTILE_DDL = [
  "CREATE TABLE hostile_notes (id integer PRIMARY KEY, label varchar(50) NOT NULL, qty integer, at timestamptz)",
  "CREATE TABLE hostile_tree (id integer PRIMARY KEY, parent_id integer REFERENCES hostile_tree(id), name text NOT NULL)",
];

const BASE_EXTRA: Record<string, Record<string, unknown>[]> = {
  "hostile_notes.json": [
    { id: 1, label: "first", qty: 3, at: "2026-01-01T00:00:00Z" },
    { id: 2, label: "second", qty: null, at: null },
  ],
  "hostile_tree.ndjson": [
    { id: 1, parent_id: null, name: "root" },
    { id: 2, parent_id: 1, name: "child" },
    { id: 3, parent_id: 2, name: "grandchild" },
  ],
};

export function loadCases(): Promise<HostileCase[]> {
  return readFile(path.join(CORPUS_DIR, "cases.json"), "utf8").then((t) => JSON.parse(t) as HostileCase[]);
}

const text = (file: string, rows: Record<string, unknown>[]) =>
  file.endsWith(".ndjson")
    ? `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`
    : `[\n${rows.map((r) => JSON.stringify(r)).join(",\n")}\n]\n`;

export interface CaseRelease {
  dir: string;
  /** The release file that holds the hostile input (absolute). */
  hostileFile: string;
  config: ConfigInput;
}

export interface HostileKit {
  url: string;
  work: string;
  backupDir: string;
  /** State of every table once the base release is in. */
  base: DbState;
  /** Writes the release of case `c` (base files + the hostile one); `write` may put the hostile file in place itself. */
  release(c: HostileCase, write?: (file: string) => Promise<void>): Promise<CaseRelease>;
  /** Runs the case through the library; resolves with the failure (or null when it committed). */
  runLibrary(r: CaseRelease): Promise<RunFailed | null>;
  state(): Promise<DbState>;
  close(): Promise<void>;
}

/** Config with one release, "case", in `dir`. */
export function caseConfig(
  dir: string,
  backupDir: string,
  c: Pick<HostileCase, "target" | "batchSize" | "config">,
  fileName: string,
): ConfigInput {
  return {
    client: ({ url }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }),
    backupDir,
    ...(c.config?.schema ? { schema: c.config.schema } : {}),
    releases: {
      case: {
        dir,
        tables: BASE_TABLES.map((t) => {
          const entry: Record<string, unknown> = "model" in t ? { model: t.model } : { table: t.table };
          entry.file = t.file;
          if (t.table === c.target) {
            entry.file = fileName;
            if (c.batchSize) entry.batchSize = c.batchSize;
            if (c.config?.table !== undefined) entry.table = c.config.table;
            if (c.config?.model !== undefined) entry.model = c.config.model;
            if (entry.table !== undefined && entry.model !== undefined) delete entry.model;
          }
          return entry as { file: string };
        }),
      },
    },
  };
}

export async function openHostileKit(db: { url: string; drop(): Promise<void> }): Promise<HostileKit> {
  const work = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-hostile-"));
  const backupDir = path.join(work, "backups");
  const baseDir = path.join(work, "base");
  await mkdir(baseDir, { recursive: true });
  const records = { ...releaseRecords("A", SMALL), ...BASE_EXTRA };
  for (const t of BASE_TABLES) await writeFile(path.join(baseDir, t.file), text(t.file, records[t.file] ?? []));
  for (const ddl of HOSTILE_DDL) await sql(db.url, ddl);
  const baseConfig = caseConfig(baseDir, backupDir, { target: "" }, "");
  await new AtomicEtl(parseConfig(baseConfig, REPO_ROOT)).import({ release: "case", url: db.url, backup: false });
  let n = 0;
  const kit: HostileKit = {
    url: db.url,
    work,
    backupDir,
    base: await captureState(db.url, ALL_TABLES),
    async release(c, write) {
      const dir = path.join(work, `case-${++n}-${c.id}`);
      await mkdir(dir, { recursive: true });
      const target = BASE_TABLES.find((t) => t.table === c.target);
      const ext = c.file ? path.extname(c.file) : (c.ext ?? path.extname(target?.file ?? ".json"));
      const fileName = `${c.target}${ext}`;
      for (const t of BASE_TABLES) if (t.table !== c.target) await copyFile(path.join(baseDir, t.file), path.join(dir, t.file));
      const hostileFile = path.join(dir, fileName);
      if (c.file) await copyFile(path.join(CORPUS_DIR, "files", c.file), hostileFile);
      else if (write) await write(hostileFile);
      else if (target) await copyFile(path.join(baseDir, target.file), hostileFile);
      return { dir, hostileFile, config: caseConfig(dir, backupDir, c, fileName) };
    },
    async runLibrary(r) {
      try {
        await new AtomicEtl(parseConfig(r.config, REPO_ROOT)).import({ release: "case", url: db.url, backup: false });
        return null;
      } catch (e) {
        if (e instanceof RunFailed) return e;
        throw e;
      }
    },
    state: () => captureState(db.url, ALL_TABLES),
    async close() {
      await rm(work, { recursive: true, force: true });
      await db.drop();
    },
  };
  return kit;
}

/** What an error says, in the shape of {@link Expectation}, to compare against the pinned one. */
export function observed(e: RunFailed, hostileFile: string, pinned: Expectation): Expectation {
  return {
    code: e.error.code,
    message: e.error.message.includes(pinned.message) ? pinned.message : e.error.message,
    record: e.error.record ?? null,
    field: e.error.field ?? null,
    namesFile: typeof e.error.file === "string" && e.error.file.endsWith(path.basename(hostileFile)),
    exit: e.exitCode,
  };
}
