import { rowEncoder } from "../db/copy-text.js";
import type { TableInfo } from "../sql/catalog.js";

type Row = Record<string, unknown>;

/**
 * Rows grouped by which defaulted columns they carry, so an absent key gets the column's
 * DEFAULT rather than NULL. Usually one group.
 */
export function groupByDefaults(info: TableInfo, rows: Row[]): { columns: string[]; rows: Row[] }[] {
  const defaulted = info.columns.filter((c) => c.hasDefault && !c.isGenerated).map((c) => c.name);
  const plain = info.columns.filter((c) => !c.hasDefault && !c.isGenerated).map((c) => c.name);
  if (defaulted.length === 0) return [{ columns: plain, rows }];
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    let sig = "";
    for (const c of defaulted) sig += r[c] === undefined ? "0" : "1";
    const g = groups.get(sig);
    if (g) g.push(r);
    else groups.set(sig, [r]);
  }
  return [...groups].map(([sig, rs]) => ({ columns: [...plain, ...defaulted.filter((_, i) => sig[i] === "1")], rows: rs }));
}

/** One COPY of a batch: the columns it names, its rows, and their COPY text. */
export interface CopyGroup {
  columns: string[];
  rows: Row[];
  text: string;
}

/** A table's validated rows as COPY text, one group per set of defaulted columns (an encoder compiled per set). */
export class CopyBatchEncoder {
  private readonly encoders = new Map<string, (rows: readonly Row[]) => string>();

  constructor(private readonly info: TableInfo) {}

  encode(rows: Row[]): CopyGroup[] {
    return groupByDefaults(this.info, rows).map((g) => ({ ...g, text: this.encoderFor(g.columns)(g.rows) }));
  }

  private encoderFor(columns: string[]): (rows: readonly Row[]) => string {
    const key = columns.join("\u0000");
    let encode = this.encoders.get(key);
    if (!encode) this.encoders.set(key, (encode = rowEncoder(this.info, columns)));
    return encode;
  }
}
