import { execute, query } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import type { TableInfo } from "../sql/catalog.js";
import { type QualifiedName, qualified } from "../sql/quote.js";
import type { LockMode } from "../sql/locks.js";
import { currentUser } from "../sql/session.js";
import {
  addForeignKey,
  alterOwner,
  commentOnTable,
  copySequenceState,
  createTableLike,
  doBlock,
  dropTables,
  grant,
  renameRelation,
  revokeAll,
  sequenceOwnedBy,
  setOptions,
  setReplicaIdentity,
  setStatisticsTarget,
} from "../sql/ddl.js";
import { insertStaged, type StagedPlan, type StagedTarget, stagedStrategy } from "./staged.js";
import { boundedName, WORK_TABLE_PREFIX } from "./staging.js";
import { type ApplyCounts, infosOf, type Strategy, type StrategyContext } from "./strategy.js";
import {
  aclDifferences,
  type ColumnSettings,
  type NamedShape,
  type OutgoingForeignKey,
  type OwnedSequence,
  readColumnSettings,
  readDependents,
  readForeignKeys,
  readGrants,
  readOwnedSequences,
  readShapes,
  readTableFacts,
  type TableFacts,
} from "./swap-catalog.js";

/** Name of the table a swap builds to replace `table`. */
export const swapName = (table: string) => boundedName(`${WORK_TABLE_PREFIX}swap_`, table);

const same = (a: QualifiedName, b: QualifiedName) => a.schema === b.schema && a.name === b.name;

function refused(ctx: StrategyContext, problems: string[]): EtlError {
  return new EtlError(
    "STRATEGY_REFUSED",
    `swap refuses to replace ${ctx.tables.map((t) => t.name).join(", ")}; a new table would not take over:\n  - ${problems.join("\n  - ")}`,
    {
      step: "clear",
      meta: { dependents: problems },
      next: "use staged-delete (readers are never blocked, every dependent stays), or drop/recreate the dependents around the import",
    },
  );
}

type Rename = { kind: NamedShape["kind"] | "SEQUENCE"; from: QualifiedName; to: string };

/** Pairs the new table's indexes and statistics with the old ones of the same shape: new name → old name. */
function pairByShape(ctx: StrategyContext, old: NamedShape[], built: NamedShape[]): Rename[] {
  const queue = new Map<string, NamedShape[]>();
  for (const o of old) queue.set(`${o.kind}:${o.shape}`, [...(queue.get(`${o.kind}:${o.shape}`) ?? []), o]);
  const pairs = built.map((b) => {
    const match = queue.get(`${b.kind}:${b.shape}`)?.shift();
    if (!match) throw refused(ctx, [`${b.kind.toLowerCase()} ${b.name.name} of the new table matches nothing on ${b.table}`]);
    return { kind: b.kind, from: b.name, to: match.name.name };
  });
  const left = [...queue.values()].flat();
  if (left.length)
    throw refused(
      ctx,
      left.map((o) => `${o.kind.toLowerCase()} ${o.name.name} on ${o.table} was not rebuilt`),
    );
  return pairs;
}

/**
 * Creates `neu` like `t` (INCLUDING ALL) and carries over what LIKE does not: persistence,
 * tablespace, owner, table and column privileges (verified equal, else refused), the table
 * comment, storage parameters, per-column options and statistics targets.
 */
async function buildLike(
  ctx: StrategyContext,
  t: TableInfo,
  neu: QualifiedName,
  f: TableFacts,
  me: string,
  columns: ColumnSettings[],
): Promise<void> {
  await execute(ctx.tx, createTableLike(neu, t, { unlogged: f.unlogged, tablespace: f.tablespace }));
  if (f.owner !== me) await execute(ctx.tx, alterOwner(neu, f.owner));
  // privileges that default privileges gave the new table go before the old table's are copied
  const given = new Set((await readGrants(ctx.tx, qualified(neu))).map((g) => g.grantee));
  for (const grantee of given) await execute(ctx.tx, revokeAll(neu, grantee));
  for (const g of await readGrants(ctx.tx, qualified(t))) {
    await execute(ctx.tx, grant(neu, g.privilege, g.grantee, { columns: g.column === null ? [] : [g.column], grantable: g.grantable }));
  }
  const diff = await aclDifferences(ctx.tx, qualified(t), qualified(neu));
  if (diff.length)
    throw refused(
      ctx,
      diff.map((d) => `${t.name}: the new table's privileges differ: ${d}`),
    );
  if (f.comment !== null) await execute(ctx.tx, commentOnTable(neu, f.comment));
  if (f.options.length) await execute(ctx.tx, setOptions(neu, null, f.options));
  for (const c of columns) {
    if (c.options.length) await execute(ctx.tx, setOptions(neu, c.column, c.options));
    if (c.statisticsTarget !== null) await execute(ctx.tx, setStatisticsTarget(neu, c.column, c.statisticsTarget));
  }
}

/** REPLICA IDENTITY FULL / NOTHING / USING INDEX (the rebuilt index) on the new table. */
async function carryReplicaIdentity(
  ctx: StrategyContext,
  t: TableInfo,
  neu: QualifiedName,
  f: TableFacts,
  renames: Rename[],
): Promise<void> {
  if (f.replicaIdentity === "f" || f.replicaIdentity === "n")
    await execute(ctx.tx, setReplicaIdentity(neu, f.replicaIdentity === "f" ? "FULL" : "NOTHING"));
  if (f.replicaIdentity !== "i") return;
  const index = renames.find((r) => r.kind === "INDEX" && r.to === f.replicaIndex);
  if (!index) throw refused(ctx, [`${t.name}: its replica identity index ${f.replicaIndex ?? "?"} was not rebuilt`]);
  await execute(ctx.tx, setReplicaIdentity(neu, { index: index.from.name }));
}

/**
 * `swap`: build a complete new table per target (LIKE … INCLUDING ALL: columns, defaults,
 * identity, constraints, indexes, comments, statistics; plus owner, grants, storage
 * parameters, replica identity, FKs), fill it from staging, then in the final phase drop the
 * old table and rename the new one in: readers wait only for those milliseconds.
 *
 * Honest about dependents: anything tied to the old table's OID that would not follow
 * (views, rules, triggers, policies, publications, FKs from tables outside the swap, users
 * of its row type, partitioning, row security) makes the swap refuse up front, naming each.
 * Owned sequences are carried over (serial re-owned, identity continued), FKs among the
 * swapped tables are rebuilt between the new tables. Not MVCC-safe for REPEATABLE READ
 * readers that started before the COMMIT (they see the new table empty).
 */
export const swapStrategy = (): Strategy => stagedStrategy(swapPlan());

/** What sets swap apart (a plan runs its refusals and reports its locks). */
export const swapPlan = (): StagedPlan => new SwapPlan();

/** The swap's part of the staged shape: what it learns in `refuse` and builds in `afterStaging` it uses in the final phase. */
class SwapPlan implements StagedPlan {
  readonly name = "swap";
  readonly canFallBack = true;
  private readonly built = new Map<string, QualifiedName>();
  private facts = new Map<string, TableFacts>();
  private sequences: OwnedSequence[] = [];
  private builtSequences: OwnedSequence[] = [];
  private foreignKeys: OutgoingForeignKey[] = [];
  private renames: Rename[] = [];

  async refuse(ctx: StrategyContext): Promise<void> {
    const schema = schemaOf(ctx);
    this.facts = await readTableFacts(ctx.tx, schema, names(ctx));
    const problems: string[] = [];
    for (const t of infosOf(ctx)) {
      const f = this.facts.get(t.name) as TableFacts;
      if (!f.mayOwn) problems.push(`${t.name} is owned by ${f.owner}, and this role cannot act as its owner`);
      problems.push(...f.shapeProblems.map((p) => `${t.name}: ${p}`));
    }
    problems.push(...(await readDependents(ctx.tx, schema, names(ctx))).map((d) => `${d.what} (depends on ${d.table})`));
    if (problems.length) throw refused(ctx, problems);
    this.sequences = await readOwnedSequences(ctx.tx, schema, names(ctx));
    this.foreignKeys = await readForeignKeys(ctx.tx, schema, names(ctx));
  }

  async afterStaging(ctx: StrategyContext): Promise<void> {
    const started = performance.now();
    const schema = schemaOf(ctx);
    const [me] = await query<{ me: string }>(ctx.tx, currentUser());
    const settings = await readColumnSettings(ctx.tx, schema, names(ctx));
    for (const t of infosOf(ctx)) {
      const neu = { schema, name: swapName(t.name) };
      await buildLike(
        ctx,
        t,
        neu,
        this.facts.get(t.name) as TableFacts,
        me?.me ?? "",
        settings.filter((x) => x.table === t.name),
      );
      this.built.set(t.name, neu);
    }
    const builtNames = [...this.built.values()].map((b) => b.name);
    const shapes = await readShapes(ctx.tx, schema, [...names(ctx), ...builtNames]);
    const oldName = this.oldNames();
    this.renames = infosOf(ctx).flatMap((t) =>
      pairByShape(
        ctx,
        shapes.filter((s) => s.table === t.name),
        shapes.filter((s) => oldName.get(s.table) === t.name),
      ),
    );
    for (const t of infosOf(ctx))
      await carryReplicaIdentity(ctx, t, this.built.get(t.name) as QualifiedName, this.facts.get(t.name) as TableFacts, this.renames);
    this.builtSequences = await readOwnedSequences(ctx.tx, schema, builtNames);
    for (const s of this.builtSequences) {
      const old = this.identityBefore(s, oldName);
      if (old) this.renames.push({ kind: "SEQUENCE", from: s.sequence, to: old.sequence.name });
    }
    ctx.log("swap tables created", { tables: this.built.size, durationMs: Math.round(performance.now() - started) });
  }

  async afterChecks(ctx: StrategyContext, staged: ReadonlyMap<string, StagedTarget>, counts: ReadonlyMap<string, number>): Promise<void> {
    const started = performance.now();
    for (const t of infosOf(ctx))
      await insertStaged(ctx, staged.get(t.name) as StagedTarget, this.built.get(t.name) as QualifiedName, counts.get(t.name) ?? 0);
    for (const fk of this.foreignKeys) {
      const parent = infosOf(ctx).find((t) => same(t, fk.references));
      const references = parent ? (this.built.get(parent.name) as QualifiedName) : fk.references;
      await execute(ctx.tx, addForeignKey(this.built.get(fk.table) as QualifiedName, fk.def, references));
    }
    ctx.log("swap tables filled", {
      tables: this.built.size,
      foreignKeys: this.foreignKeys.length,
      durationMs: Math.round(performance.now() - started),
    });
  }

  locks(ctx: StrategyContext): { tables: QualifiedName[]; mode: LockMode } {
    // dropping a table with an FK also locks the table it references
    const parents = this.foreignKeys
      .map((fk) => fk.references)
      .filter((p, i, all) => !infosOf(ctx).some((t) => same(t, p)) && all.findIndex((q) => same(q, p)) === i);
    return { tables: [...infosOf(ctx), ...parents], mode: "ACCESS EXCLUSIVE" };
  }

  async apply(
    ctx: StrategyContext,
    _staged: ReadonlyMap<string, StagedTarget>,
    counts: ReadonlyMap<string, number>,
  ): Promise<Record<string, ApplyCounts>> {
    const oldName = this.oldNames();
    const continued = this.builtSequences.flatMap((s) => {
      const old = this.identityBefore(s, oldName);
      return old ? [copySequenceState(s.sequence, old.sequence)] : [];
    });
    const built = (table: string) => this.built.get(table) as QualifiedName;
    // readers wait from the LOCK until COMMIT: everything in between is one round trip
    await execute(
      ctx.tx,
      doBlock([
        ...continued,
        ...this.sequences.filter((s) => !s.identity).map((s) => sequenceOwnedBy(s.sequence, built(s.table), s.column)),
        dropTables(infosOf(ctx)),
        ...infosOf(ctx).map((t) => renameRelation("TABLE", built(t.name), t.name)),
        ...this.renames.map((r) => renameRelation(r.kind, r.from, r.to)),
      ]),
    );
    // deleted: the old table is dropped whole; counting it here would hold every reader for a scan
    const out: Record<string, ApplyCounts> = {};
    for (const t of infosOf(ctx))
      out[t.name] = { inserted: counts.get(t.name) ?? 0, updated: 0, unchanged: 0, deleted: null, duplicatesInSource: 0 };
    return out;
  }

  /** New table name → the target it replaces. */
  private oldNames(): Map<string, string> {
    return new Map([...this.built].map(([o, b]) => [b.name, o]));
  }

  /** The identity sequence of the old table that a new table's identity continues. */
  private identityBefore(s: OwnedSequence, oldName: ReadonlyMap<string, string>): OwnedSequence | undefined {
    return this.sequences.find((o) => o.identity && o.column === s.column && o.table === oldName.get(s.table));
  }
}

const schemaOf = (ctx: StrategyContext) => (infosOf(ctx)[0] as TableInfo).schema;
const names = (ctx: StrategyContext) => ctx.tables.map((t) => t.name);
