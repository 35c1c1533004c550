import type { SampleConfig, SampleLimit } from "../config/samples-schema.js";
import type { ReleaseConfig } from "../config/schema.js";
import type { RuntimeDataModel } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import { planLoadOrder } from "../planner/fk-order.js";
import type { TableInfo } from "../sql/catalog.js";
import type { RootSelection } from "../sql/sample-statements.js";
import { mapModel } from "../validation/table-mapping.js";
import { needsSecret, planMasks } from "./mask-plan.js";
import { NameResolver } from "./names.js";
import { choosePlan } from "./plan-mode.js";
import type { ChildEdge, SamplePlan, SourceTable, TablePlan } from "./plan-types.js";

/** Tables a sample never takes unless named: Prisma's migration history. */
const SKIPPED = new Set(["_prisma_migrations"]);

/** `players=1000`, `*=100`, `matches=10%`, `leagues=all` (from `--limit`). */
export function parseLimitArg(arg: string): [string, SampleLimit] {
  const m = /^\s*([^=\s]+)\s*=\s*(\d+|\d+(\.\d+)?%|all)\s*$/.exec(arg);
  if (!m) throw new EtlError("USAGE", `--limit takes table=N, table=N% or table=all (or *=N), got "${arg}"`, { step: "config" });
  const v = m[2] as string;
  return [m[1] as string, /^\d+$/.test(v) ? Number(v) : (v as SampleLimit)];
}

function toSelection(limit: SampleLimit | undefined, seed: number): RootSelection["limit"] {
  if (limit === undefined || limit === "all") return null;
  if (typeof limit === "number") return { rows: limit };
  const percent = Number(limit.slice(0, -1));
  if (percent > 100) throw new EtlError("USAGE", `a percentage limit is at most 100%, got ${limit}`, { step: "config" });
  return percent >= 100 ? null : { percent, seed };
}

interface Selection {
  universe: SourceTable[];
  limits: Map<string, SampleLimit>;
  star: SampleLimit | undefined;
  where: Map<string, string>;
  roots: string[];
}

/** Roots, limits (config, then --limit) and where conditions, by table name. */
function resolveSelection(
  name: string,
  sample: SampleConfig,
  cliLimits: readonly string[],
  names: NameResolver,
  catalog: ReadonlyMap<string, SourceTable>,
): Selection {
  const universe = sample.tables
    ? sample.tables.map((t) => names.table(t, "tables") as SourceTable)
    : [...catalog.values()].filter((t) => !SKIPPED.has(t.name));
  const limits = new Map<string, SampleLimit>();
  let star: SampleLimit | undefined;
  for (const [k, v] of [...Object.entries(sample.limits), ...cliLimits.map(parseLimitArg)]) {
    if (k === "*") star = v;
    else limits.set(names.table(k, `limit ${k}=${String(v)}`).name, v);
  }
  const where = new Map(Object.entries(sample.where).map(([k, v]) => [names.table(k, `where["${k}"]`).name, v]));
  const roots = sample.roots
    ? sample.roots.map((r) => names.table(r, "roots").name)
    : [...new Set([...limits.keys(), ...where.keys(), ...(star !== undefined ? universe.map((t) => t.name) : [])])];
  if (roots.length === 0) {
    throw new EtlError("USAGE", `sample "${name}" selects nothing: give limits, where or roots in the config, or --limit`, {
      step: "config",
      next: `atomic-etl sample ${name} --limit '*=100'`,
    });
  }
  return { universe, limits, star, where, roots };
}

/** Child edges per parent table, with their caps. */
function resolveIncludes(sample: SampleConfig, names: NameResolver): Map<string, ChildEdge[]> {
  const children = new Map<string, ChildEdge[]>();
  for (const [parentName, spec] of Object.entries(sample.include)) {
    const parent = names.table(parentName, `include["${parentName}"]`);
    const list = Array.isArray(spec) ? spec.map((n) => [n, sample.childLimit] as const) : Object.entries(spec);
    children.set(
      parent.name,
      list.map(([n, cap]) => ({ fk: names.childEdge(parent, n, `include["${parentName}"]`), cap, name: n })),
    );
  }
  return children;
}

function tablePlan(
  n: string,
  sel: Selection,
  ctx: {
    sample: SampleConfig;
    catalog: ReadonlyMap<string, SourceTable>;
    names: NameResolver;
    children: Map<string, ChildEdge[]>;
    masks: ReturnType<typeof planMasks>;
  },
): TablePlan {
  const table = ctx.catalog.get(n) as SourceTable;
  const isRoot = sel.roots.includes(n);
  const limit = isRoot ? toSelection(sel.limits.get(n) ?? sel.star, ctx.sample.seed) : null;
  const cond = sel.where.get(n) ?? null;
  const edges = ctx.children.get(n) ?? [];
  const full = isRoot && limit === null && cond === null && edges.length === 0;
  return {
    table,
    model: ctx.names.modelOf(n),
    file: `${n}.ndjson`,
    root: isRoot ? { where: cond, limit } : null,
    full,
    children: edges,
    masks: ctx.masks.get(n) ?? new Map(),
  };
}

/**
 * Decides a sample before anything is read: roots and their limits, the tables their rows
 * pull in (parents always, by every FK; children only along included edges), masks, and
 * whether the result can be imported (an FK cycle the import could not load is refused).
 */
export function planSample(opts: {
  name: string;
  sample: SampleConfig;
  cliLimits: readonly string[];
  catalog: ReadonlyMap<string, SourceTable>;
  dm: RuntimeDataModel | undefined;
}): SamplePlan {
  const { sample, catalog } = opts;
  const names = new NameResolver(catalog, opts.dm);
  const sel = resolveSelection(opts.name, sample, opts.cliLimits, names, catalog);
  const children = resolveIncludes(sample, names);
  const { order, broughtBy } = outputTables(
    sel.roots,
    catalog,
    children,
    sel.universe.map((t) => t.name),
  );
  const masks = planMasks(sample.masks, names, new Map(order.map((n) => [n, catalog.get(n) as SourceTable])));
  const tables = order.map((n) => tablePlan(n, sel, { sample, catalog, names, children, masks }));
  const how = choosePlan(tables, broughtBy);
  return {
    kind: "sample",
    name: opts.name,
    tables,
    ...how,
    selection: {
      roots: sel.roots,
      limits: { ...Object.fromEntries(sel.limits), ...(sel.star !== undefined ? { "*": sel.star } : {}) },
      where: Object.fromEntries(sel.where),
      include: Object.fromEntries(
        [...children].map(([p, es]) => [p, es.map((e) => ({ fk: e.fk.name, child: e.fk.table.name, cap: e.cap }))]),
      ),
      seed: sample.seed,
    },
    needsSecret: Object.values(sample.masks).some(needsSecret),
    maskSecretEnv: sample.maskSecretEnv,
  };
}

/**
 * Every table the roots can pull rows into, in load order (parents first). A table on an FK
 * cycle that the import could not load (an FK on it is not DEFERRABLE) is refused here, before
 * anything is read, naming the cycle and the include that brought it in.
 */
function outputTables(
  roots: readonly string[],
  catalog: ReadonlyMap<string, SourceTable>,
  children: ReadonlyMap<string, ChildEdge[]>,
  universe: readonly string[],
): { order: string[]; broughtBy: Map<string, string> } {
  const broughtBy = new Map<string, string>();
  const seen = new Set<string>(roots);
  const queue = [...roots];
  for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
    const info = catalog.get(t) as SourceTable;
    const next: [string, string][] = [
      ...info.foreignKeys.map((fk) => [fk.references.name, `parent of ${t} (FK ${fk.name})`] as [string, string]),
      ...(children.get(t) ?? []).map(
        (e) => [e.fk.table.name, `children of ${t} (FK ${e.fk.name}, ≤ ${e.cap} per parent)`] as [string, string],
      ),
    ];
    for (const fk of info.foreignKeys) {
      if (fk.references.schema !== info.schema || !catalog.has(fk.references.name)) {
        throw new EtlError(
          "SAMPLE_UNSUPPORTED",
          `${t} references ${fk.references.schema}.${fk.references.name} (FK ${fk.name}) outside the sampled schema`,
          {
            step: "config",
            table: t,
          },
        );
      }
    }
    for (const [n, why] of next) {
      if (seen.has(n)) continue;
      seen.add(n);
      broughtBy.set(n, why);
      queue.push(n);
    }
  }
  // The sample's other tables come along empty: importing the release then replaces every
  // table of the schema, so no row outside it is left pointing at a parent the sample dropped.
  for (const n of universe) {
    if (seen.has(n)) continue;
    seen.add(n);
    broughtBy.set(n, "no rows: one of the sample's tables, not reached from the roots");
  }
  const names = [...catalog.keys()].filter((n) => seen.has(n));
  try {
    return { order: planLoadOrder(catalog as ReadonlyMap<string, TableInfo>, names).loadOrder, broughtBy };
  } catch (e) {
    if (!(e instanceof EtlError) || e.code !== "FK_CYCLE") throw e;
    const cycle = (e.meta.cycle as string[] | undefined) ?? [];
    const via = cycle.map((t) => broughtBy.get(t)).filter((b): b is string => !!b && b.startsWith("children"));
    throw new EtlError(
      "SAMPLE_CYCLE",
      `the sample cannot close: ${cycle.join(" -> ")} is an FK cycle with a NOT DEFERRABLE FK, so no import order exists for its rows${via.length ? ` (brought in as ${via.join("; ")})` : ""}`,
      {
        step: "config",
        meta: { cycle },
        next: "make an FK on the cycle DEFERRABLE, or leave the include that reaches it out of the sample",
      },
    );
  }
}

/** An export: every row of each table of a configured release, into the files the release names. */
export function planExport(opts: {
  name: string;
  release: ReleaseConfig;
  catalog: ReadonlyMap<string, SourceTable>;
  dm: RuntimeDataModel | undefined;
}): SamplePlan {
  const names = new NameResolver(opts.catalog, opts.dm);
  const tables: TablePlan[] = opts.release.tables.map((entry) => {
    const table = names.table(mapModel(entry, opts.dm).table, `release ${opts.name}`) as SourceTable;
    return {
      table,
      model: names.modelOf(table.name),
      file: entry.file,
      root: { where: null, limit: null },
      full: true,
      children: [],
      masks: new Map(),
    };
  });
  return {
    kind: "export",
    name: opts.name,
    tables,
    mode: "direct",
    why: [
      "direct: an export takes every row of each table, one COPY per table; no row ids are kept",
      "the source is only read: no schema, no TEMP table",
    ],
    selection: { tables: tables.map((t) => t.table.name), rows: "all" },
    needsSecret: false,
    maskSecretEnv: "",
  };
}
