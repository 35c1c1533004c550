/**
 * The row ids of one table that a sample takes, as packed `ctid`s, one JS number (8 bytes in
 * a Set) per row, never the rows themselves: (leaf × 2^32 + block) × 2^11 + offset, where
 * `leaf` is the index of the partition a row of a partitioned table lives in (0 for a plain
 * table: a ctid is only unique within one heap). A heap tuple's offset is below 2^11 for any
 * block size (MaxHeapTuplesPerPage is 291 at 8 kB, 1169 at 32 kB) and a block number below
 * 2^32, so 1024 leaves fit in the 53 bits of a safe integer. New ids wait in a queue until
 * the closure has followed their FKs.
 */
export class RowSet {
  private readonly ids = new Set<number>();
  private queue: number[] = [];
  /** A partitioned table's partitions (oids) in the order their rows first came: a leaf index is a place here. */
  private readonly leafOids: number[] = [];
  private readonly leafIndex = new Map<number, number>();
  /** How many ids each path brought in (`root`, `parent via <fk>`, `child via <fk>`). */
  readonly pulledBy = new Map<string, number>();

  get size(): number {
    return this.ids.size;
  }

  get pending(): number {
    return this.queue.length;
  }

  /**
   * Adds ctid texts (`"(12,3)"`) of one heap (`leaf`: its partition's index, 0 for a plain
   * table), queued to be followed unless `follow` is false; returns how many were new.
   */
  addAll(ctids: readonly string[], reason: string, opts: { follow?: boolean; leaf?: number } = {}): number {
    const follow = opts.follow ?? true;
    let added = 0;
    for (const t of ctids) {
      const id = packCtid(t, opts.leaf ?? 0);
      if (this.ids.has(id)) continue;
      this.ids.add(id);
      if (follow) this.queue.push(id);
      added++;
    }
    if (added) this.pulledBy.set(reason, (this.pulledBy.get(reason) ?? 0) + added);
    return added;
  }

  /** The leaf index of a partition (its oid), given on first sight; at most 1024 per table. */
  leafOf(oid: number): number {
    let i = this.leafIndex.get(oid);
    if (i === undefined) {
      i = this.leafOids.push(oid) - 1;
      if (i >= MAX_LEAVES) throw new Error(`rows from more than ${MAX_LEAVES} partitions of one table`);
      this.leafIndex.set(oid, i);
    }
    return i;
  }

  /** The partition's oid of a leaf index (see {@link leafOf}); undefined for a plain table's ids. */
  oidOf(leaf: number): number | undefined {
    return this.leafOids[leaf];
  }

  /** Up to `n` ids not yet followed, lowest first (so a batch covers few pages), as ctid texts (of a plain table). */
  take(n: number): string[] {
    if (this.queue.length > n) this.queue.sort((a, b) => a - b);
    const batch = this.queue.length <= n ? this.queue.sort((a, b) => a - b) : this.queue.slice(0, n);
    this.queue = this.queue.length <= n ? [] : this.queue.slice(n);
    return batch.map((id) => unpackCtid(id).ctid);
  }

  /** Every id in physical order, leaf by leaf, in batches of one leaf's ctid texts (for reading the rows out). */
  *batches(n: number): Generator<{ leaf: number; ids: string[] }> {
    const sorted = Float64Array.from(this.ids).sort();
    for (let i = 0; i < sorted.length;) {
      const leaf = unpackCtid(sorted[i] as number).leaf;
      const ids: string[] = [];
      for (; i < sorted.length && ids.length < n; i++) {
        const u = unpackCtid(sorted[i] as number);
        if (u.leaf !== leaf) break;
        ids.push(u.ctid);
      }
      yield { leaf, ids };
    }
  }
}

const BLOCK = 2 ** 11;
export const MAX_LEAVES = 1024;
const LEAF = 2 ** 32 * BLOCK;

export function packCtid(text: string, leaf = 0): number {
  const comma = text.indexOf(",");
  const offset = Number(text.slice(comma + 1, -1));
  if (!(offset < BLOCK) || !Number.isInteger(leaf) || !(leaf >= 0 && leaf < MAX_LEAVES))
    throw new Error(`row id out of range: ${text} in leaf ${leaf}`);
  return leaf * LEAF + Number(text.slice(1, comma)) * BLOCK + offset;
}

export function unpackCtid(id: number): { leaf: number; ctid: string } {
  const leaf = Math.floor(id / LEAF);
  const rest = id - leaf * LEAF;
  return { leaf, ctid: `(${Math.floor(rest / BLOCK)},${rest % BLOCK})` };
}
