import type { Attribute, Field, Model } from "@mrleebo/prisma-ast";

/** A default Prisma's client computes itself (never the database): what to generate, and its argument. */
export type ClientDefault =
  | { kind: "cuid"; version: 1 | 2 }
  | { kind: "uuid"; version: 4 | 7 }
  | { kind: "nanoid"; length: number | undefined }
  | { kind: "ulid" }
  | { kind: "updatedAt" };

/** Per model, per Prisma field name: the client-side default. */
export type ClientDefaults = Map<string, Map<string, ClientDefault>>;

/** The defaults read, or why none could be (the run then fills nothing, as before). */
export interface ClientSchema {
  defaults: ClientDefaults;
  unreadable: string | null;
}

const cache = new Map<string, ClientSchema>();

/**
 * The client-side defaults of a generated Prisma client, read from the schema text it embeds
 * (`inlineSchema`, kept on the instance as `_engineConfig.inlineSchema`). A client without
 * one, or a schema the parser cannot read, gives no defaults and says why: an optional
 * convenience never stops a run that works without it.
 *
 * @example (await clientSchemaOf(new PrismaClient({ adapter }))).defaults.get("Player")?.get("id") // { kind: "cuid", version: 1 }
 */
export async function clientSchemaOf(client: { _engineConfig?: { inlineSchema?: unknown } }): Promise<ClientSchema> {
  const text = client._engineConfig?.inlineSchema;
  if (typeof text !== "string" || text === "") return { defaults: new Map(), unreadable: null };
  let found = cache.get(text);
  if (!found) {
    try {
      found = { defaults: await parseClientDefaults(text), unreadable: null };
    } catch (e) {
      found = { defaults: new Map(), unreadable: `the client's schema could not be parsed: ${(e as Error).message.split("\n")[0]}` };
    }
    cache.set(text, found);
  }
  return found;
}

/**
 * Parses a Prisma schema (with @mrleebo/prisma-ast) for the defaults Prisma's client fills:
 * `@default(cuid())`/`cuid(2)`, `uuid()`/`uuid(4)`/`uuid(7)`, `nanoid()`/`nanoid(n)`, `ulid()`
 * and `@updatedAt`. Database defaults (`autoincrement()`, `now()`, `dbgenerated()`, literals)
 * are the database's and not listed. Throws what the parser throws. The parser (and chevrotain
 * under it) loads on first use, not with the CLI.
 */
export async function parseClientDefaults(schemaText: string): Promise<ClientDefaults> {
  const { getSchema } = await import("@mrleebo/prisma-ast/dist/prisma-ast.esm.js");
  const out: ClientDefaults = new Map();
  for (const block of getSchema(schemaText).list) {
    if (block.type !== "model") continue;
    const fields = new Map<string, ClientDefault>();
    for (const p of (block as Model).properties) {
      if (p.type !== "field") continue;
      const d = defaultOf(p as Field);
      if (d) fields.set(p.name, d);
    }
    if (fields.size) out.set(block.name, fields);
  }
  return out;
}

function defaultOf(f: Field): ClientDefault | null {
  const attrs: Attribute[] = f.attributes ?? [];
  if (attrs.some((a) => a.name === "updatedAt" && !a.group)) return { kind: "updatedAt" };
  const def = attrs.find((a) => a.name === "default" && !a.group);
  const value = def?.args?.[0]?.value;
  if (typeof value !== "object" || value === null || !("type" in value) || value.type !== "function") return null;
  const arg = value.params?.[0];
  const n = typeof arg === "string" && /^\d+$/.test(arg) ? Number(arg) : undefined;
  switch (value.name) {
    case "cuid":
      return { kind: "cuid", version: n === 2 ? 2 : 1 };
    case "uuid":
      return { kind: "uuid", version: n === 7 ? 7 : 4 };
    case "nanoid":
      return { kind: "nanoid", length: n };
    case "ulid":
      return { kind: "ulid" };
    default:
      return null;
  }
}
