/**
 * A stable text of a value for hashing: object keys sorted, functions by their source text,
 * zod schemas by their definition, bigints and regexps as text, cycles cut. Two values with
 * the same text mean the same to a run.
 *
 * @example canonicalJson({ b: 1, a: [2, () => 3] }) // '{"a":[2,"fn:() => 3"],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(walk(value, new WeakSet()));
}

function walk(v: unknown, seen: WeakSet<object>): unknown {
  if (v === undefined) return null;
  if (typeof v === "function") return `fn:${String(v)}`;
  if (typeof v === "bigint") return `${v}n`;
  if (v instanceof RegExp) return `re:${v.source}/${v.flags}`;
  if (v instanceof Date) return v.toISOString();
  if (v === null || typeof v !== "object") return v;
  if (seen.has(v)) return "[cycle]";
  seen.add(v);
  try {
    // a zod schema (or check) is what its definition says; its methods and caches are not
    const zod = (v as { _zod?: { def?: unknown } })._zod;
    if (zod && typeof zod === "object" && zod.def !== undefined) return { zod: walk(zod.def, seen) };
    if (Array.isArray(v)) return v.map((x) => walk(x, seen));
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = walk((v as Record<string, unknown>)[k], seen);
    return out;
  } finally {
    seen.delete(v);
  }
}
