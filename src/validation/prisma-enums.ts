import type { Enum } from "@mrleebo/prisma-ast";
import type { RuntimeDataModel } from "../db/prisma-like.js";

/** A Prisma enum as the data model describes it: its values' Prisma names and database labels. */
export interface DataModelEnum {
  dbName: string | null;
  values: ReadonlyArray<{ name: string; dbName: string | null }>;
}

/** The runtime data model with its enums (Prisma 7's `_runtimeDataModel.enums` is empty). */
export type DataModel = RuntimeDataModel & { enums?: Record<string, DataModelEnum> };

/** `"PG-13"` → `PG-13`: an attribute argument as written in the schema. */
const unquote = (v: unknown) => (typeof v === "string" ? (JSON.parse(v) as unknown) : v);

function mapped(attributes: ReadonlyArray<{ name: string; args?: ReadonlyArray<{ value: unknown }> }> | undefined): string | null {
  const map = attributes?.find((a) => a.name === "map");
  const v = unquote(map?.args?.[0]?.value);
  return typeof v === "string" ? v : null;
}

/**
 * The enums of a Prisma schema, with `@map`ped values and `@@map`ped type names. The parser
 * (and chevrotain under it) loads on first use, not with the CLI.
 */
export async function enumsOfSchema(schema: string): Promise<Record<string, DataModelEnum>> {
  const { getSchema } = await import("@mrleebo/prisma-ast/dist/prisma-ast.esm.js");
  const out: Record<string, DataModelEnum> = {};
  for (const block of getSchema(schema).list) {
    if (block.type !== "enum") continue;
    const e = block as Enum;
    const values: { name: string; dbName: string | null }[] = [];
    let dbName: string | null = null;
    for (const x of e.enumerators) {
      if (x.type === "enumerator") values.push({ name: x.name, dbName: mapped(x.attributes) });
      else if (x.type === "attribute" && x.name === "map") dbName = mapped([x]);
    }
    out[e.name] = { dbName, values };
  }
  return out;
}

/**
 * The client's data model with its enums: Prisma 7 keeps no enum values at run time, so they
 * are read from the schema the generated client embeds (`inlineSchema`). Without one (a
 * client built otherwise) the enums are left out, and enum values are read as database labels.
 *
 * @example mapTables(plan, await dataModelOf(client), defaults) // Film.rating accepts PG_13 for "PG-13"
 */
export async function dataModelOf(client: { _runtimeDataModel?: RuntimeDataModel }): Promise<DataModel | undefined> {
  const dm = client._runtimeDataModel;
  const schema = (client as { _engineConfig?: { inlineSchema?: unknown } })._engineConfig?.inlineSchema;
  if (!dm || typeof schema !== "string") return dm;
  try {
    return { ...dm, enums: await enumsOfSchema(schema) };
  } catch {
    // a schema the parser cannot read: enum values are then read as database labels only
    return dm;
  }
}
