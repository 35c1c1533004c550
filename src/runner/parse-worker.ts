/**
 * A parse worker (worker_threads): turns batches of record texts into COPY text, off the main
 * thread. It parses (JSON.parse), validates (the table's compiled checks) and encodes exactly
 * as the main thread would (parseTextBatch → RecordValidator → CopyBatchEncoder); the main
 * thread only reads, finds the records, and writes to the COPY. See parse-pool.ts.
 */
import { parentPort } from "node:worker_threads";
import { parseTextBatch } from "../sources/read-records.js";
import { RecordValidator } from "../validation/record-validator.js";
import { CopyBatchEncoder } from "./copy-batch.js";
import { serializeError, type ToWorker, type FromWorker } from "./parse-protocol.js";

interface TableState {
  file: string;
  validator: RecordValidator;
  encoder: CopyBatchEncoder;
  trackColumns: boolean;
}

const tables = new Map<number, TableState>();
const port = parentPort;
if (!port) throw new Error("parse-worker.js runs as a worker thread only");

const reply = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

port.on("message", (m: ToWorker) => {
  if (m.kind === "table") {
    const s = m.setup;
    tables.set(m.table, {
      file: s.file,
      validator: new RecordValidator(s.mapping, s.info, s.file, s.keys, undefined, s.unknownKeys, s.updatedAt),
      encoder: new CopyBatchEncoder(s.info),
      trackColumns: s.trackColumns,
    });
    return;
  }
  if (m.kind === "end") {
    tables.delete(m.table);
    return;
  }
  const t = tables.get(m.table);
  try {
    if (!t) throw new Error(`parse worker: no table ${m.table}`);
    const rows = t.validator.validateBatch(parseTextBatch(t.file, m.batch));
    let columns: string[] | null = null;
    if (t.trackColumns) {
      const seen = new Set<string>();
      for (const r of rows) for (const k in r) seen.add(k);
      columns = [...seen];
    }
    const groups = t.encoder.encode(rows).map((g) => ({ columns: g.columns, text: g.text, count: g.rows.length }));
    reply({
      kind: "done",
      table: m.table,
      seq: m.seq,
      groups,
      keyMode: t.validator.keyMode,
      generatedSkipped: [...t.validator.generatedSkipped],
      columns,
    });
  } catch (e) {
    reply({ kind: "failed", table: m.table, seq: m.seq, error: serializeError(e) });
  }
});
