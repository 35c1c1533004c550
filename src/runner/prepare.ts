import { dataModelOf } from "../validation/prisma-enums.js";
import { readCatalog } from "../db/catalog.js";
import type { HeldLock } from "../db/advisory-lock.js";
import { type DatabaseIdentity, formatIdentity, readDatabaseIdentity, sameDatabase } from "../db/database-identity.js";
import { diffFingerprints, type Fingerprint, fingerprintTables } from "../db/fingerprint.js";
import { connect, pgTx } from "../db/pg-client.js";
import type { PrismaClientLike, TxLike } from "../db/prisma-like.js";
import { ToolClient } from "../db/tool-client.js";
import { EtlError } from "../errors.js";
import { type ContentHash, contentHash } from "../ledger/content-hash.js";
import type { LedgerRow } from "../ledger/ledger-row.js";
import { ensureLedger } from "../ledger/ledger-schema.js";
import { provenance } from "../ledger/provenance.js";
import { readLastCommitted } from "../ledger/read.js";
import { runRow } from "../ledger/run-row.js";
import { configHash } from "../plan/effective-config.js";
import { planHash } from "../plan/plan-hash.js";
import type { LoadPlan } from "../planner/fk-order.js";
import type { TablePlan } from "../planner/table-plan.js";
import { checkReleaseFiles } from "../release/release-files.js";
import { type BoundSteps, bindSteps, everyTarget, stepTableNames } from "../steps/targets.js";
import { type BeforeState, takeBeforeState } from "./backup.js";
import { type RunContext, Sessions } from "./context.js";
import { takeRunLock } from "./lock.js";
import { clientSchemaOf } from "../db/client-schema.js";
import { mapTables, planTables, type RunPlan } from "./plan.js";
import { expectPlan, recordedAfter, sameRelease, unchangedReason } from "./redeploy.js";

/** Everything the transaction needs, once preflight, lock, catalog and backup are through. */
export interface Prepared {
  sessions: Sessions;
  tables: TablePlan[];
  load: LoadPlan;
  /** The release's steps, and the tables only they write (in the backup, the fingerprints and the proof too). */
  steps: BoundSteps;
  state: BeforeState;
  database: DatabaseIdentity;
  content: ContentHash;
  configHash: string;
  /** The last committed deploy of the release here (null: none, or no ledger yet). */
  last: LedgerRow | null;
}

/** A prepared run, or an import with nothing to do (its sessions already closed). */
export type Preparation = { kind: "run"; prepared: Prepared } | { kind: "unchanged"; last: LedgerRow; reason: string };

/**
 * Preflight (files) → client → lock and ledger (imports only) → catalog → one-database
 * check → content and config hashes → for an import: `--expect-plan`, the redeploy check,
 * then the backup (or fingerprints). A plan stops before the backup: it takes none, and
 * reads the targets' fingerprints inside its own transaction.
 */
export async function prepare(ctx: RunContext): Promise<Preparation> {
  const { plan, clock } = ctx;
  const { files, releaseHash } = await clock.run(
    "preflight",
    () => checkReleaseFiles(plan.config, plan.release, plan.releaseConfig),
    (r) => ({ files: r.files.length, bytes: r.files.reduce((a, f) => a + f.size, 0) }),
  );
  const tool = await ToolClient.create(plan.client, ctx.url);
  const client = tool.client;
  let lock: HeldLock | null = null;
  try {
    const schema = await clientSchemaOf(client);
    if (schema.unreadable) ctx.log.warn({ phase: "preflight", reason: schema.unreadable }, "Prisma's client-side defaults not read");
    const mappings = mapTables(plan, await dataModelOf(client), schema.defaults);
    if (plan.mode === "import") {
      lock = await clock.run(
        "lock",
        () => takeRunLock(plan),
        (l) => ({ pid: l.pid }),
      );
      await openLedger(ctx, lock.session);
    }
    const dm = client._runtimeDataModel;
    const bound = await clock.run(
      "preflight",
      async () => {
        const names = [...new Set([...mappings.map((m) => m.table), ...stepTableNames(plan.releaseConfig.steps, dm)])];
        const catalog = await readCatalog(client, plan.schema, names);
        const tables = planTables(plan, files, mappings, catalog);
        return { ...tables, steps: bindSteps(plan.releaseConfig.steps, dm, catalog, tables.tables) };
      },
      (b) => ({ tables: b.tables.length, steps: b.steps.steps.length, stepTables: b.steps.extra.length }),
    );
    ctx.report.strategy = [...new Set(bound.tables.map((t) => t.strategy))].join(",");
    const known = await identify(ctx, client, lock, bound.tables);
    const copyOff = await tool.enableCopy();
    if (copyOff) ctx.log.info({ phase: "preflight", copy: false, reason: copyOff }, `COPY is off: ${copyOff}`);
    const sessions = new Sessions(plan, tool, lock);
    const base = { sessions, ...bound, ...known };
    if (plan.mode === "plan") return { kind: "run", prepared: { ...base, state: { before: null, backup: null } } };
    const current = await checkStart(ctx, client, base);
    if (typeof current === "string") {
      await sessions.close();
      return { kind: "unchanged", last: known.last as LedgerRow, reason: current };
    }
    const state = await takeBeforeState(plan, everyTarget(bound), client, ctx.url, releaseHash, clock, ctx.log, current);
    if (current && state.backup && diffFingerprints(current, state.before ?? {}).length)
      expectPlan(plan, inputsOf(plan, base, state.before ?? {}), "the targets changed between the plan check and the backup");
    await recordFacts(ctx, base, state);
    return { kind: "run", prepared: { ...base, state } };
  } catch (e) {
    await tool.close();
    await lock?.release().catch(() => undefined);
    throw e;
  }
}

/** Creates or upgrades the ledger under the run lock; from here on a failure is recorded. */
async function openLedger(ctx: RunContext, session: TxLike): Promise<void> {
  const { plan } = ctx;
  const p = await provenance(plan.config.root);
  await ctx.clock.run(
    "preflight",
    () => ensureLedger(session, plan.ledgerSchema, p.toolVersion),
    (l) => ({ ledger: l.schema, ledgerVersion: l.version, upgraded: l.applied }),
  );
  ctx.ledgerRow = runRow(plan, { tables: [], startedAt: ctx.report.startedAt, provenance: p });
}

type Known = Pick<Prepared, "database" | "content" | "configHash" | "last">;

/** Which database this is (the client and the run's own sessions must agree), what the release is, and when it was last deployed here. */
async function identify(ctx: RunContext, client: PrismaClientLike, lock: HeldLock | null, tables: readonly TablePlan[]): Promise<Known> {
  const { plan } = ctx;
  const read = async (session: TxLike): Promise<Known> => ({
    database: await assertOneDatabase(plan, client, session),
    content: contentHash(tables),
    configHash: configHash(plan, tables),
    last: await readLastCommitted(session, plan.ledgerSchema, {
      environment: plan.target.env,
      release: plan.release,
      targetSchema: plan.schema,
    }),
  });
  // a plan holds no lock session: it opens one of its own, read only
  const known = lock ? await read(lock.session) : await withSession(ctx.url, read);
  ctx.report.database = known.database;
  ctx.report.contentHash = known.content.combined;
  return known;
}

async function withSession<T>(url: string, fn: (db: TxLike) => Promise<T>): Promise<T> {
  const c = await connect(url, "atomic-etl:plan");
  try {
    return await fn(pgTx(c));
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * What the import starts from, checked: with `--expect-plan`, the plan hash (refused when it
 * changed); without `--redeploy`, whether the last deploy left nothing to do (returns why).
 * Returns the fingerprints it read (reused as the before-state without a backup), or null.
 */
async function checkStart(
  ctx: RunContext,
  client: PrismaClientLike,
  p: Omit<Prepared, "state">,
): Promise<Record<string, Fingerprint> | string | null> {
  const { plan } = ctx;
  const maybeUnchanged = !plan.redeploy && sameRelease(p.last, p.content.combined, p.configHash);
  if (!plan.expectPlan && !maybeUnchanged) return null;
  // a redeploy check reads in the format the last run recorded (an older version's included)
  const like = plan.expectPlan || !p.last ? undefined : (recordedAfter(p.last) ?? undefined);
  const current = await ctx.clock.run(
    "preflight",
    () =>
      fingerprintTables(
        client,
        p.tables.map((t) => t.info),
        like,
      ),
    (fp) => ({ rows: Object.values(fp).reduce((a, f) => a + f.rows, 0), check: plan.expectPlan ? "plan" : "redeploy" }),
  );
  if (plan.expectPlan) expectPlan(plan, inputsOf(plan, p, current));
  if (!maybeUnchanged) return current;
  return unchangedReason(p.last, p.content.combined, p.configHash, current) ?? current;
}

const inputsOf = (plan: RunPlan, p: Pick<Prepared, "content" | "configHash" | "database">, fingerprints: Record<string, Fingerprint>) => ({
  contentHash: p.content.combined,
  configHash: p.configHash,
  environment: plan.target.env,
  database: p.database,
  fingerprints,
});

/** The report's backup, and the ledger row as far as it is known before the transaction. */
async function recordFacts(ctx: RunContext, p: Omit<Prepared, "state">, state: BeforeState): Promise<void> {
  const { plan, report } = ctx;
  const b = state.backup;
  report.backup = b && { id: b.manifest.id, path: b.dumpPath, sizeBytes: b.manifest.sizeBytes, durationMs: b.manifest.durationMs };
  report.planHash = planHash(inputsOf(plan, p, state.before ?? {}));
  ctx.ledgerRow = runRow(plan, {
    tables: p.tables,
    stepTables: p.steps.extra,
    content: p.content,
    configHash: p.configHash,
    planHash: report.planHash,
    database: p.database,
    backupId: b?.manifest.id ?? null,
    startedAt: report.startedAt,
    provenance: await provenance(plan.config.root),
  });
}

/** The config's Prisma client and the run's own sessions (lock, backup, proof) must reach one database. */
async function assertOneDatabase(plan: RunPlan, client: PrismaClientLike, session: TxLike): Promise<DatabaseIdentity> {
  const [theirs, ours] = await Promise.all([readDatabaseIdentity(client), readDatabaseIdentity(session)]);
  if (sameDatabase(theirs, ours)) return ours;
  throw new EtlError(
    "DATABASE_MISMATCH",
    `the config's Prisma client reaches ${formatIdentity(theirs)}, but the run's lock, backup and proof connect to ${formatIdentity(ours)} (${plan.target.urlVariable ?? "the URL given"}); nothing was touched`,
    {
      step: "preflight",
      runId: plan.runId,
      meta: { client: theirs, run: ours },
      next: "make the config's client factory use the adapter it is given: client: ({ adapter }) => new PrismaClient({ adapter })",
    },
  );
}
