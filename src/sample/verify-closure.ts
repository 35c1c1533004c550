import { createReadStream } from "node:fs";
import path from "node:path";
import { EtlError } from "../errors.js";
import type { ColumnInfo, ForeignKeyInfo, TableInfo } from "../sql/catalog.js";
import { quoteLongNumbers } from "../sources/long-numbers.js";
import { formatOf, readRecords } from "../sources/read-records.js";

/** The result of checking one FK over the written files. */
export interface FkClosure {
  fk: string;
  child: string;
  parent: string;
  /** Child rows whose FK columns are all non-NULL (the ones the FK constrains). */
  checked: number;
  /** Of those, how many found their parent row in the output. */
  resolved: number;
  /** The parent table is not part of the output (an export of some tables): the import checks these against the target. */
  external: boolean;
  /** `files`: read back from the written files; `snapshot`: both tables written whole and unmasked, so checked by the server in the run's snapshot. */
  verifiedBy: "files" | "snapshot" | "none";
}

/** Checks one FK over two whole, unmasked tables in the snapshot; null when the FK must be checked in the files. */
export type SnapshotCheck = (fk: ForeignKeyInfo) => Promise<{ checked: number; missing: number }> | null;

type Row = Record<string, unknown>;

const part = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : JSON.stringify(v));

/**
 * A tuple's identity: numbers and their digit-exact string forms agree; parts are joined with
 * NUL, which no PostgreSQL text value can hold, so they never run together.
 */
const tupleKey = (row: Row, columns: readonly string[]): string | null => {
  if (columns.length === 1) {
    const v = row[columns[0] as string];
    return v === null || v === undefined ? null : part(v);
  }
  const parts: string[] = [];
  for (const c of columns) {
    const v = row[c];
    if (v === null || v === undefined) return null;
    parts.push(part(v));
  }
  return parts.join("\u0000");
};

const LONG_RUN = /[\d.]{16}/;
const INTEGER_TYPES = new Set(["int2", "int4", "int8", "oid"]);

/**
 * When a line must be parsed again with its long numbers quoted (long-numbers.ts), for keys of
 * these column types. Integer columns hold integers, so JSON.parse rounded one exactly when
 * it is past 2^53: testing the key values is enough, and cheaper than a regex over every
 * line (0.18 s of a 10% sample's 0.7 s check). Other numbers (numeric, float: `1.0000000000000001`
 * parses to the safe integer 1) keep the regex test for a run of 16+ digits and dots.
 */
function reparseTest(keys: readonly (ColumnInfo | undefined)[]): (row: Row, line: string) => boolean {
  if (keys.every((c) => c !== undefined && INTEGER_TYPES.has(c.type) && !c.isArray)) {
    const names = keys.map((c) => (c as ColumnInfo).name);
    return (row) => names.some((k) => typeof row[k] === "number" && !Number.isSafeInteger(row[k]));
  }
  return (_row, line) => LONG_RUN.test(line);
}

/**
 * Every record of a release file: NDJSON line by line (the files this command writes), JSON
 * arrays through the import's reader. `keys`: the columns `fn` reads, for {@link reparseTest}.
 */
async function forEachRow(
  file: string,
  label: string,
  keys: readonly (ColumnInfo | undefined)[],
  fn: (row: Row, index: number) => void,
  onRows?: () => void,
): Promise<void> {
  if (formatOf(file) === "json") {
    for await (const b of readRecords(file, { batchSize: 5000, label })) {
      b.records.forEach((r, i) => fn(r as Row, b.firstIndex + i));
      onRows?.();
    }
    return;
  }
  let rest = "";
  let index = 0;
  const reparse = reparseTest(keys);
  const one = (line: string) => {
    if (line.length === 0) return;
    let row = JSON.parse(line) as Row;
    if (reparse(row, line)) row = JSON.parse(quoteLongNumbers(line)) as Row;
    fn(row, index++);
  };
  for await (const chunk of createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 }) as AsyncIterable<string>) {
    const text = rest + chunk;
    let from = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
      one(text.slice(from, nl));
      from = nl + 1;
    }
    rest = text.slice(from);
    onRows?.();
  }
  one(rest);
}

/** FKs between two whole, unmasked tables, checked by the server; a missing parent is CLOSURE_BROKEN. */
async function checkInSnapshot(
  tables: readonly { table: TableInfo; file: string }[],
  inOutput: (table: string) => boolean,
  inSnapshot: SnapshotCheck | undefined,
): Promise<Map<ForeignKeyInfo, FkClosure>> {
  // keyed by the FK itself: an FK's name is unique only within its table
  const done = new Map<ForeignKeyInfo, FkClosure>();
  for (const t of tables) {
    for (const fk of t.table.foreignKeys) {
      const check = inOutput(fk.references.name) ? inSnapshot?.(fk) : null;
      if (!check) continue;
      const r = await check;
      if (r.missing > 0) {
        throw new EtlError(
          "CLOSURE_BROKEN",
          `FK ${fk.name}: ${r.missing} row(s) of ${t.table.name} have no row in ${fk.references.name} (the source's FK does not hold: NOT VALID, or triggers disabled?)`,
          { step: "verify", table: t.table.name, meta: { fk: fk.name } },
        );
      }
      done.set(fk, {
        fk: fk.name,
        child: t.table.name,
        parent: fk.references.name,
        checked: r.checked,
        resolved: r.checked,
        external: false,
        verifiedBy: "snapshot",
      });
    }
  }
  return done;
}

/** The named columns of a table, as the catalog has them (undefined where it has none: the regex test then). */
const columnsOf = (t: TableInfo | undefined, names: readonly string[]) => names.map((n) => t?.columns.find((c) => c.name === n));

/** One FK checked from the files: the parent's key tuples (null: the parent is not in the output) and the counts. */
interface FileCheck {
  fk: ForeignKeyInfo;
  keys: Keyset | null;
  result: FkClosure;
}

/** The key tuples of a parent that FKs over one list of its columns resolve to, kept while a check still needs them. */
interface Keyset {
  cols: readonly string[];
  set: Set<string>;
  /** Checks that have not read their child yet. */
  users: number;
}

/** The tables parents first (depth first over their FKs; on a cycle, where it is entered). */
function parentsFirst<T extends { table: TableInfo }>(tables: readonly T[]): T[] {
  const byName = new Map(tables.map((t) => [t.table.name, t]));
  const seen = new Set<string>();
  const out: T[] = [];
  const visit = (t: T) => {
    if (seen.has(t.table.name)) return;
    seen.add(t.table.name);
    for (const fk of t.table.foreignKeys) {
      const parent = byName.get(fk.references.name);
      if (parent) visit(parent);
    }
    out.push(t);
  };
  for (const t of tables) visit(t);
  return out;
}

/**
 * Proves the release closed: every FK of every output row must find its parent row in the
 * output. FKs between two tables written whole and unmasked are checked by the server in the
 * run's snapshot (the files are those rows byte for byte); every other FK is checked by
 * reading the files back, after masking (masked keys and their FKs agree or this fails).
 * Each file is read once, parents first: a table's pass collects the key tuples its children
 * reference and checks its own FKs against its parents', read before it. Only an FK whose
 * parent comes later (a cycle, a self-reference) reads its child file a second time, at the
 * end. Memory holds the referenced key tuples of parent tables, each only until the last
 * check that needs it has run; rows are streamed.
 */
export async function verifyClosure(
  dir: string,
  tables: readonly { table: TableInfo; file: string }[],
  opts: { inSnapshot?: SnapshotCheck; onRows?: () => void } = {},
): Promise<FkClosure[]> {
  const fileOf = new Map(tables.map((t) => [t.table.name, t.file]));
  const bySnapshot = await checkInSnapshot(tables, (n) => fileOf.has(n), opts.inSnapshot);
  // the key tuples each parent must provide: one set per distinct list of referenced columns
  const keysets = new Map<string, Keyset>();
  const collects = new Map<string, Keyset[]>();
  const keysetOf = (fk: ForeignKeyInfo) => {
    const id = `${fk.references.name}\u0000${fk.referencedColumns.join("\u0000")}`;
    let k = keysets.get(id);
    if (!k) {
      keysets.set(id, (k = { cols: fk.referencedColumns, set: new Set(), users: 0 }));
      collects.set(fk.references.name, [...(collects.get(fk.references.name) ?? []), k]);
    }
    k.users++;
    return k;
  };
  const byFile = new Map<ForeignKeyInfo, FileCheck>();
  for (const t of tables) {
    for (const fk of t.table.foreignKeys) {
      if (bySnapshot.has(fk)) continue;
      const inOutput = fileOf.has(fk.references.name);
      byFile.set(fk, {
        fk,
        keys: inOutput ? keysetOf(fk) : null,
        result: {
          fk: fk.name,
          child: t.table.name,
          parent: fk.references.name,
          checked: 0,
          resolved: 0,
          external: !inOutput,
          verifiedBy: inOutput ? "files" : "none",
        },
      });
    }
  }
  const checksOf = (t: { table: TableInfo }) => t.table.foreignKeys.flatMap((fk) => byFile.get(fk) ?? []);
  // a check done: its parent's keys go once no other check needs them
  const release = (done: readonly FileCheck[]) => {
    for (const c of done) if (c.keys && --c.keys.users === 0) c.keys.set.clear();
  };
  const read = new Set<string>();
  const later: { t: (typeof tables)[number]; checks: FileCheck[] }[] = [];
  for (const t of parentsFirst(tables)) {
    const mine = checksOf(t);
    const now = mine.filter((c) => !c.keys || read.has(c.fk.references.name));
    const wait = mine.filter((c) => !now.includes(c));
    const collect = collects.get(t.table.name) ?? [];
    if (now.length || collect.length) {
      const keys = columnsOf(t.table, [...collect.flatMap((c) => c.cols), ...now.flatMap((c) => c.fk.columns)]);
      await forEachRow(
        path.join(dir, t.file),
        t.file,
        keys,
        (row, index) => {
          for (const c of collect) {
            const k = tupleKey(row, c.cols);
            if (k !== null) c.set.add(k);
          }
          for (const c of now) check(c, row, index, t);
        },
        opts.onRows,
      );
      release(now);
    }
    read.add(t.table.name);
    if (wait.length) later.push({ t, checks: wait });
  }
  for (const { t, checks: wait } of later) {
    await forEachRow(
      path.join(dir, t.file),
      t.file,
      columnsOf(
        t.table,
        wait.flatMap((c) => c.fk.columns),
      ),
      (row, index) => {
        for (const c of wait) check(c, row, index, t);
      },
      opts.onRows,
    );
    release(wait);
  }
  return tables.flatMap((t) => t.table.foreignKeys.map((fk) => (bySnapshot.get(fk) ?? byFile.get(fk)?.result) as FkClosure));
}

/** One row against one FK: counted when its FK columns are all non-NULL, CLOSURE_BROKEN when the parent's output lacks the tuple. */
function check(c: FileCheck, row: Row, index: number, t: { table: TableInfo; file: string }): void {
  const k = tupleKey(row, c.fk.columns);
  if (k === null) return;
  c.result.checked++;
  if (!c.keys) return;
  if (!c.keys.set.has(k)) {
    throw new EtlError(
      "CLOSURE_BROKEN",
      `${t.file} record #${index}: FK ${c.fk.name} (${c.fk.columns.join(", ")}) = ${k} has no row in ${c.fk.references.name}'s output`,
      { step: "verify", file: t.file, record: index, table: t.table.name, field: c.fk.columns[0], meta: { fk: c.fk.name } },
    );
  }
  c.result.resolved++;
}
