/**
 * kill -9 trials on the schema in the wild: a CLI import of release B over A (or back) into
 * range-partitioned tables (with and without a default partition), a trigger-filled
 * tsvector, a domain and an FK into a partitioned table is killed at a seeded random moment.
 * Afterwards the tables hold exactly the state before or the state the run would leave (the
 * latter only if COMMIT was sent; a merge of A onto B keeps B's extra rows: state M), no staging
 * table, lock or open transaction is left, and the next run succeeds.
 *
 * @example const s = await runPartitionTrials(rng, 4); expect(s.partial).toBe(0);
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { sql, workspace, linkNodeModules, type Workspace } from "../../fixtures/core/kit.js";
import { SEED, WILD_ENTRIES, WILD_SQL, wildRelease, wildSnapshot } from "../../fixtures/wild/kit.js";
import { freshDatabase, runSql, type FreshDatabase } from "../../support/postgres.js";
import type { Rng } from "./seeded-random.js";
import { spawnCli } from "./spawn-run.js";
import { REPO_ROOT } from "./paths.js";

const STRATEGIES = ["direct", "staged-truncate", "staged-delete", "merge"] as const;

export interface PartitionTrialSummary {
  seed: number;
  trials: number;
  outcomes: Record<string, number>;
  byStrategy: Record<string, number>;
  partial: number;
  problems: string[];
}

type Snapshot = Record<string, string[]>;
type State = "A" | "B" | "M";

/** The release a trial loads from each state: always one that changes the tables. */
const targetFrom = (holds: State): "A" | "B" => (holds === "B" ? "A" : "B");

/** The state a run of `release` with `strategy` leaves from `holds`: merge upserts and deletes nothing. */
function stateAfter(holds: State, release: "A" | "B", strategy: (typeof STRATEGIES)[number]): State {
  return strategy === "merge" && release === "A" && holds !== "A" ? "M" : release;
}

interface Bench {
  db: FreshDatabase;
  ws: Workspace;
  config: string;
  /** A and B as a replace leaves them, and M: release A merged onto B (merge keeps B's rows A lacks). */
  states: Record<State, Snapshot>;
  /** Calibrated duration of one import, in ms. */
  runMs: number;
}

function releaseFiles(variant: "A" | "B") {
  const r = wildRelease(variant === "A" ? 1500 : 1800);
  if (variant === "B") for (const f of r["film.json"] as Record<string, unknown>[]) f.title = `${String(f.title)} (B)`;
  return r;
}

async function configFile(ws: Workspace): Promise<string> {
  await linkNodeModules(ws.root);
  const client = path.join(REPO_ROOT, "test/fixtures/wild/generated/client.ts");
  const tables = (strategy: string) =>
    JSON.stringify(
      strategy === "merge" ? WILD_ENTRIES.map((t) => ({ ...t, mode: "merge" })) : WILD_ENTRIES.map((t) => ({ ...t, batchSize: 300 })),
    );
  const releases = STRATEGIES.flatMap((s) =>
    (["A", "B"] as const).map(
      (v) => `"${v}-${s}": { dir: ${JSON.stringify(ws.releaseDir(v))}, strategy: "${s === "merge" ? "direct" : s}", tables: ${tables(s)} }`,
    ),
  );
  const file = path.join(ws.root, "partitions.config.ts");
  await writeFile(
    file,
    `import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from ${JSON.stringify(client)};
export default {
  client: ({ adapter }: { adapter: PrismaPg }) => new PrismaClient({ adapter }),
  backupDir: ${JSON.stringify(ws.backupDir)},
  releases: { ${releases.join(",\n    ")} },
};
`,
  );
  return file;
}

const run = (b: Bench, release: string) =>
  spawnCli(["import", release, "--config", b.config, "--env", "local", "--no-backup"], { DATABASE_URL: b.db.url });

/** A database with the wild schema, releases A and B written, and both end states known. */
export async function openPartitionBench(): Promise<Bench> {
  const db = await freshDatabase({ migrate: false });
  await runSql(db.url, WILD_SQL);
  await sql(db.url, ...SEED);
  const ws = await workspace();
  await ws.writeRelease("A", releaseFiles("A"));
  await ws.writeRelease("B", releaseFiles("B"));
  const b: Bench = { db, ws, config: await configFile(ws), states: { A: {}, B: {}, M: {} }, runMs: 0 };
  const calibrate = async (release: string, state?: State) => {
    const started = Date.now();
    const r = await run(b, release).done;
    if (r.code !== 0) throw new Error(`calibration import of ${release} failed: ${r.stderr.slice(-1500)}`);
    b.runMs = Date.now() - started;
    if (state) b.states[state] = await wildSnapshot(db.url);
  };
  await calibrate("B-direct", "B");
  await calibrate("A-merge", "M");
  await calibrate("A-direct", "A");
  return b;
}

export async function closePartitionBench(b: Bench): Promise<void> {
  await b.db.drop();
  await b.ws.cleanup();
}

async function leftovers(url: string): Promise<string[]> {
  const rows = await sql<{ what: string }>(
    url,
    `SELECT 'relation ' || relname AS what FROM pg_class WHERE relname LIKE 'atomic\\_etl\\_%'
     UNION ALL SELECT 'advisory lock of pid ' || pid FROM pg_locks WHERE locktype = 'advisory'
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
     UNION ALL SELECT 'open transaction of ' || application_name FROM pg_stat_activity
       WHERE datname = current_database() AND application_name LIKE 'atomic-etl%' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()`,
  );
  return rows.map((r) => r.what);
}

/** The first row of `now` that the release being loaded does not hold, and the row it holds instead. */
function firstDifference(now: string[], after: string[]): string {
  const i = now.findIndex((r, k) => r !== after[k]);
  return i < 0 ? "same rows" : `row ${i}: ${now[i]} instead of ${after[i] ?? "nothing"}`;
}

/** Per table, how the snapshot compares with the release held before and the one the run was loading. */
function describeState(now: Record<string, string[]>, before: Record<string, string[]>, after: Record<string, string[]>): string {
  const same = (a: string[] | undefined, b: string[] | undefined) => JSON.stringify(a) === JSON.stringify(b);
  return Object.keys(now)
    .map(
      (t) =>
        `${t}: ${now[t]?.length ?? 0} rows, ${same(now[t], before[t]) ? "= before" : same(now[t], after[t]) ? "= after" : `neither (${firstDifference(now[t] ?? [], after[t] ?? [])})`}`,
    )
    .join("; ");
}

/** `trials` kill -9 trials, each at a random moment of a run that would move the tables to the other release. */
export async function runPartitionTrials(b: Bench, rng: Rng, trials: number): Promise<PartitionTrialSummary> {
  const s: PartitionTrialSummary = { seed: rng.seed, trials, outcomes: {}, byStrategy: {}, partial: 0, problems: [] };
  let holds: State = "A";
  for (let i = 0; i < trials; i++) {
    const strategy = rng.pick(STRATEGIES);
    const release = targetFrom(holds);
    const target = stateAfter(holds, release, strategy);
    const child = run(b, `${release}-${strategy}`);
    await new Promise((r) => setTimeout(r, rng.int(50, Math.max(100, Math.round(b.runMs * 1.1)))));
    child.kill();
    await child.done;
    // the log is written synchronously: every line before the kill is there
    const commitSent = child.lines.some((l) => l.msg === "sending COMMIT");
    // a killed client's backend may still be finishing its transaction: wait for it to go
    for (let w = 0; w < 50 && (await leftovers(b.db.url)).some((x) => x.startsWith("open transaction")); w++)
      await new Promise((r) => setTimeout(r, 100));
    const now = await wildSnapshot(b.db.url);
    const state: State | "partial" =
      JSON.stringify(now) === JSON.stringify(b.states[holds])
        ? holds
        : JSON.stringify(now) === JSON.stringify(b.states[target])
          ? target
          : "partial";
    s.byStrategy[strategy] = (s.byStrategy[strategy] ?? 0) + 1;
    const outcome = state === holds ? "before" : state === target ? "after" : "partial";
    s.outcomes[outcome] = (s.outcomes[outcome] ?? 0) + 1;
    if (state === "partial") {
      s.partial++;
      s.problems.push(
        `trial ${i} (${strategy}, ${child.lines.at(-1)?.msg ?? "no log"}): partial state: ${describeState(now, b.states[holds], b.states[target])}`,
      );
    }
    if (outcome === "after" && !commitSent) s.problems.push(`trial ${i} (${strategy}): the new release without COMMIT sent`);
    const left = await leftovers(b.db.url);
    if (left.length) s.problems.push(`trial ${i} (${strategy}): left behind ${left.join(", ")}`);
    if (state !== "partial") holds = state;
    // the next run must succeed from whatever state the trial left
    const next = targetFrom(holds);
    const r = await run(b, `${next}-${strategy}`).done;
    if (r.code !== 0) s.problems.push(`trial ${i} (${strategy}): the next run failed: ${r.stderr.slice(-500)}`);
    else {
      holds = stateAfter(holds, next, strategy);
      const after = await wildSnapshot(b.db.url);
      if (JSON.stringify(after) !== JSON.stringify(b.states[holds]))
        s.problems.push(
          `trial ${i} (${strategy}): the next run exited 0 but left ${describeState(after, b.states[holds], b.states[holds])}`,
        );
    }
  }
  return s;
}
