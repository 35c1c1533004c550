import { EtlError } from "../errors.js";
import type { TablePlan } from "../planner/table-plan.js";
import type { RawBatch } from "../sources/read-records.js";
import { findRepeatedKey } from "../sources/repeated-keys.js";
import type { StepRecord, TransformContext, TransformFn } from "./types.js";

/**
 * A table's `transform`, applied to each record as the reader yields it, before validation.
 * Without a transform the batches pass through untouched. A transformed batch carries each
 * output record's index in the file (`indexes`), so a refusal names the file's record even
 * after a split or a drop; it no longer carries the records' text, so json/jsonb values are
 * sent as the transform returns them. A key repeated in the file is still refused first (as
 * the validator would), since the transform would only ever see its last value.
 */
export function transformBatches(source: TablePlan, batches: AsyncIterable<RawBatch>): AsyncIterable<RawBatch> {
  const fn = source.entry.transform;
  return fn ? transformed(source, fn, batches) : batches;
}

async function* transformed(source: TablePlan, fn: TransformFn, batches: AsyncIterable<RawBatch>): AsyncGenerator<RawBatch> {
  const ctx: TransformContext = { index: 0, file: source.file.file, table: source.name, model: source.mapping.model };
  const refuseRepeats = source.mapping.duplicateKeys !== "last-wins";
  for await (const batch of batches) {
    const records: unknown[] = [];
    const indexes: number[] = [];
    if (refuseRepeats) for (const i of batch.mayRepeat) refuseRepeatedKey(source, batch.texts[i], batch.firstIndex + i);
    for (let i = 0; i < batch.records.length; i++) {
      ctx.index = batch.firstIndex + i;
      const out = apply(fn, batch.records[i] as StepRecord, ctx);
      if (out === null || out === undefined) continue;
      if (Array.isArray(out)) {
        for (const r of out) {
          records.push(r);
          indexes.push(ctx.index);
        }
      } else {
        records.push(out);
        indexes.push(ctx.index);
      }
    }
    if (records.length) yield { firstIndex: batch.firstIndex, records, texts: [], mayRepeat: [], indexes };
  }
}

function apply(fn: TransformFn, record: StepRecord, ctx: TransformContext): ReturnType<TransformFn> {
  try {
    return fn(record, ctx);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new EtlError("TRANSFORM_FAILED", `${ctx.file}: record #${ctx.index}: the transform of ${ctx.table} threw: ${why}`, {
      step: "load",
      file: ctx.file,
      record: ctx.index,
      table: ctx.table,
      cause: e,
      meta: { record: preview(record) },
      next: "fix the transform (or the record); nothing was written",
    });
  }
}

/** The record as the error shows it: its JSON, cut at 200 characters. */
function preview(record: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(record) ?? String(record);
  } catch {
    text = String(record);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function refuseRepeatedKey(source: TablePlan, text: string | undefined, index: number): void {
  const path = text === undefined ? null : findRepeatedKey(text);
  if (!path) return;
  const key = path[path.length - 1] as string;
  throw new EtlError(
    "REPEATED_KEY",
    `${source.file.file}: record #${index} repeats the key ${JSON.stringify(key)}${path.length > 1 ? ` (in ${path.slice(0, -1).join(".")})` : ""}; only its last value would be read`,
    {
      step: "load",
      file: source.file.file,
      record: index,
      field: path.join("."),
      table: source.name,
      meta: { key, path },
      next: `remove the repeated key from the record, or set duplicateKeys: "last-wins" on table ${source.name} to keep the last value`,
    },
  );
}

/** Records from a step's `load()` (an array, any iterable, or an async generator) as batches; `index` counts from 0. */
export async function* recordBatches(
  records: Iterable<StepRecord> | AsyncIterable<StepRecord>,
  batchSize: number,
): AsyncGenerator<RawBatch> {
  let batch: unknown[] = [];
  let firstIndex = 0;
  for await (const r of records) {
    batch.push(r);
    if (batch.length >= batchSize) {
      yield { firstIndex, records: batch, texts: [], mayRepeat: [] };
      firstIndex += batch.length;
      batch = [];
    }
  }
  if (batch.length) yield { firstIndex, records: batch, texts: [], mayRepeat: [] };
}
