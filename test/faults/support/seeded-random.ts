/**
 * Seeded randomness for fault schedules: every trial is reproducible from the printed seed.
 *
 * @example
 * const rng = seededRandom(faultSeed()); rng.int(0, 10); rng.pick(["a", "b"]);
 */
export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: small, fast, and good enough to spread kill points. */
export function seededRandom(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => {
      if (items.length === 0) throw new Error("pick from an empty list");
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
  };
}

/** FAULT_SEED when set (to replay a run), else a fresh one; always printed so a failure can be replayed. */
export function faultSeed(label: string): number {
  const fromEnv = process.env.FAULT_SEED;
  const seed = fromEnv ? Number(fromEnv) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  console.log(`[faults] ${label}: seed ${seed} (replay with FAULT_SEED=${seed})`);
  return seed;
}

/** FAULT_TRIALS when set, else `fallback`. */
export function trialCount(fallback: number): number {
  const n = Number(process.env.FAULT_TRIALS);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
