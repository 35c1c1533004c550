import type { StepConfig } from "../config/schema.js";
import type { RuntimeDataModel } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import type { TablePlan } from "../planner/table-plan.js";
import type { TableInfo } from "../sql/catalog.js";
import { mapModel, type TableMapping } from "../validation/table-mapping.js";

/** A table a step declares it writes, bound to the catalog. */
export interface StepTarget {
  name: string;
  info: TableInfo;
  mapping: TableMapping;
  /** The release's own plan of the table when a file loads it too (its schema, keys and transform apply to `load()`). */
  file: TablePlan | null;
}

/** One step, with its `writes` resolved to tables. */
export interface BoundStep {
  config: StepConfig;
  /** By table name. */
  writes: ReadonlyMap<string, StepTarget>;
}

/** The release's steps, bound: and the tables only steps write (they join the backup, the fingerprints and the proof). */
export interface BoundSteps {
  steps: BoundStep[];
  /** Tables some step writes that no file of the release loads. */
  extra: StepTarget[];
}

/** Every table a run writes: its files' tables, then those only its steps write (backup, fingerprints, proof, ledger). */
export function everyTarget(p: { tables: readonly TablePlan[]; steps: BoundSteps }): Pick<TablePlan, "name" | "info">[] {
  return [...p.tables, ...p.steps.extra];
}

/** `writes: ["Player"]` or `["players"]`: a Prisma model name, else a table name. */
export function mapWrite(name: string, dm: RuntimeDataModel | undefined): TableMapping {
  return dm?.models[name] ? mapModel({ model: name }, dm) : mapModel({ table: name }, dm);
}

/** The table names the steps write, resolved through the client's data model (to read their catalog with the files'). */
export function stepTableNames(steps: readonly StepConfig[], dm: RuntimeDataModel | undefined): string[] {
  return [...new Set(steps.flatMap((s) => s.writes.map((w) => mapWrite(w, dm).table)))];
}

/**
 * Binds each step's `writes` to the catalog (read with the files' tables; a table that does
 * not exist already failed there with CATALOG_MISMATCH).
 */
export function bindSteps(
  steps: readonly StepConfig[],
  dm: RuntimeDataModel | undefined,
  catalog: ReadonlyMap<string, TableInfo>,
  fileTables: readonly TablePlan[],
): BoundSteps {
  const all = new Map<string, StepTarget>();
  const bound = steps.map((config) => {
    const writes = new Map<string, StepTarget>();
    for (const w of config.writes) {
      const mapping = mapWrite(w, dm);
      const info = catalog.get(mapping.table);
      if (!info)
        throw new EtlError("CATALOG_MISMATCH", `step "${config.name}" writes ${w}: table ${mapping.table} was not read from the catalog`, {
          step: "preflight",
          table: mapping.table,
        });
      const target = all.get(mapping.table) ?? {
        name: mapping.table,
        info,
        mapping,
        file: fileTables.find((t) => t.name === mapping.table) ?? null,
      };
      all.set(target.name, target);
      writes.set(target.name, target);
    }
    return { config, writes };
  });
  return { steps: bound, extra: [...all.values()].filter((t) => t.file === null) };
}

/** No steps: what a release of files only binds to. */
export const NO_STEPS: BoundSteps = { steps: [], extra: [] };
