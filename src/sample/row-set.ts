/**
 * The row ids of one table that a sample takes, as packed `ctid`s: block × 65536 + offset,
 * one JS number (8 bytes in a Set) per row, never the rows themselves. New ids wait in a
 * queue until the closure has followed their FKs.
 */
export class RowSet {
  private readonly ids = new Set<number>();
  private queue: number[] = [];
  /** How many ids each path brought in (`root`, `parent via <fk>`, `child via <fk>`). */
  readonly pulledBy = new Map<string, number>();

  get size(): number {
    return this.ids.size;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Adds ctid texts (`"(12,3)"`), queued to be followed unless `follow` is false; returns how many were new. */
  addAll(ctids: readonly string[], reason: string, opts: { follow: boolean } = { follow: true }): number {
    let added = 0;
    for (const t of ctids) {
      const id = packCtid(t);
      if (this.ids.has(id)) continue;
      this.ids.add(id);
      if (opts.follow) this.queue.push(id);
      added++;
    }
    if (added) this.pulledBy.set(reason, (this.pulledBy.get(reason) ?? 0) + added);
    return added;
  }

  /** Up to `n` ids not yet followed, lowest first (so a batch covers few pages), as ctid texts. */
  take(n: number): string[] {
    if (this.queue.length > n) this.queue.sort((a, b) => a - b);
    const batch = this.queue.length <= n ? this.queue.sort((a, b) => a - b) : this.queue.slice(0, n);
    this.queue = this.queue.length <= n ? [] : this.queue.slice(n);
    return batch.map(unpackCtid);
  }

  /** Every id in physical order, in batches of ctid texts (for reading the rows out). */
  *batches(n: number): Generator<string[]> {
    const sorted = Float64Array.from(this.ids).sort();
    for (let i = 0; i < sorted.length; i += n) yield Array.from(sorted.subarray(i, i + n), unpackCtid);
  }
}

export function packCtid(text: string): number {
  const comma = text.indexOf(",");
  return Number(text.slice(1, comma)) * 65536 + Number(text.slice(comma + 1, -1));
}

export function unpackCtid(id: number): string {
  return `(${Math.floor(id / 65536)},${id % 65536})`;
}
