import { type TableConfig, tableConfigSchema } from "../config/schema.js";
import type { TxLike } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import type { TablePlan } from "../planner/table-plan.js";
import { loadTable } from "../runner/load.js";
import type { MemoryBudget } from "../runner/memory-budget.js";
import type { BoundStep, StepTarget } from "./targets.js";
import { recordBatches } from "./transform.js";
import type { StepLoadResult, StepRecord } from "./types.js";

export interface StepLoadInput {
  tx: TxLike;
  step: BoundStep;
  batchSize: number;
  maxBatchBytes: number;
  memory: MemoryBudget;
  /** Called after each batch (a stop request is honoured there). */
  onBatch: () => void;
}

/** The table a step's `load(table)` names: one of its `writes`, by model or table name. */
function targetOf(step: BoundStep, table: string): StepTarget {
  for (const t of step.writes.values()) if (t.name === table || t.mapping.model === table) return t;
  const declared = [...step.writes.keys()];
  throw new EtlError(
    "UNDECLARED_WRITE",
    `step "${step.config.name}" loads ${table}, which it does not declare in writes (${declared.join(", ") || "none"})`,
    { step: "step", table, meta: { stepName: step.config.name, declared }, next: `add "${table}" to the step's writes` },
  );
}

/**
 * The plan `load()` streams through: the table's file plan when the release loads it too
 * (its schema, keys and unknown-key rule apply; not its transform, which is the file's), else
 * the defaults of a table entry. The "file" records are named by is the step's call.
 */
function planFor(target: StepTarget, label: string, input: StepLoadInput): TablePlan {
  const base = target.file;
  const entry: TableConfig = base
    ? { ...base.entry, transform: undefined }
    : tableConfigSchema.parse({ table: target.name, file: label, duplicateKeys: target.mapping.duplicateKeys });
  return {
    name: target.name,
    info: target.info,
    mapping: target.mapping,
    entry,
    file: { entry, path: "", file: label, size: 0, sha256: "" },
    strategy: "direct",
    scope: null,
    merge: undefined,
    selfReferencing: false,
    batchSize: base?.batchSize ?? input.batchSize,
    maxBatchBytes: input.maxBatchBytes,
  };
}

/**
 * A step's `load(table, records)`: the records (an array, an iterable or an async generator)
 * go through the file path's validation and batch INSERT, straight into the table.
 */
export async function stepLoad(
  input: StepLoadInput,
  table: string,
  records: Iterable<StepRecord> | AsyncIterable<StepRecord>,
): Promise<StepLoadResult> {
  const target = targetOf(input.step, table);
  const label = `step "${input.step.config.name}" load(${table})`;
  const plan = planFor(target, label, input);
  const r = await loadTable(input.tx, plan, target.info, {
    memory: input.memory,
    batches: recordBatches(records, plan.batchSize),
    onBatch: input.onBatch,
  });
  return { table: target.name, records: r.records, rows: r.rowsInserted, batches: r.batches };
}
