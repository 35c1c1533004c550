import type { RuntimeDataModel } from "../db/prisma-like.js";
import { EtlError } from "../errors.js";
import type { ForeignKeyInfo, TableInfo } from "../sql/catalog.js";

type Field = RuntimeDataModel["models"][string]["fields"][number] & { relationName?: string };

/**
 * Turns the names a sample config uses — Prisma model and field names, or table and column
 * names — into tables, columns and FKs of the catalog. Unknown names are errors that list
 * what is known.
 */
export class NameResolver {
  private readonly modelOfTable = new Map<string, string>();

  constructor(
    private readonly tables: ReadonlyMap<string, TableInfo>,
    private readonly dm: RuntimeDataModel | undefined,
  ) {
    for (const [model, m] of Object.entries(dm?.models ?? {})) this.modelOfTable.set(m.dbName ?? model, model);
  }

  /** The Prisma model of a table, if there is one. */
  modelOf(table: string): string | null {
    return this.modelOfTable.get(table) ?? null;
  }

  /** A table by table name or Prisma model name. */
  table(name: string, where: string): TableInfo {
    const direct = this.tables.get(name);
    if (direct) return direct;
    const model = this.dm?.models[name];
    const viaModel = model ? this.tables.get(model.dbName ?? name) : undefined;
    if (viaModel) return viaModel;
    const known = [...this.tables.keys()].map((t) => (this.modelOf(t) ? `${t} (${this.modelOf(t)})` : t));
    throw new EtlError("UNKNOWN_TABLE", `${where}: unknown table or model "${name}"; known: ${known.join(", ")}`, {
      step: "config",
      next: "use a table name of the source schema or a Prisma model name",
    });
  }

  /** A column of `table` by column name or Prisma field name. */
  column(table: TableInfo, name: string, where: string): string {
    if (table.columns.some((c) => c.name === name)) return name;
    const model = this.modelOf(table.name);
    const field = model ? this.dm?.models[model]?.fields.find((f) => f.name === name && f.kind !== "object") : undefined;
    const col = field ? (field.dbName ?? field.name) : undefined;
    if (col && table.columns.some((c) => c.name === col)) return col;
    throw new EtlError(
      "UNKNOWN_COLUMN",
      `${where}: "${name}" is not a column of table ${table.name}${model ? ` nor a field of model ${model}` : ""}; columns: ${table.columns.map((c) => c.name).join(", ")}`,
      { step: "config", table: table.name, field: name, next: `fix the name in ${where} (a column or a Prisma field); nothing was read` },
    );
  }

  /** `Model.field` or `table.column` (split at the first dot). */
  qualifiedColumn(ref: string, where: string): { table: TableInfo; column: string } {
    const dot = ref.indexOf(".");
    if (dot <= 0 || dot === ref.length - 1) {
      throw new EtlError("UNKNOWN_COLUMN", `${where}: expected "Model.field" or "table.column", got "${ref}"`, {
        step: "config",
        next: `write it as Model.field or table.column in ${where}; nothing was read`,
      });
    }
    const table = this.table(ref.slice(0, dot), where);
    return { table, column: this.column(table, ref.slice(dot + 1), where) };
  }

  /**
   * The FK of a child edge from `parent`: a Prisma relation field of the parent's model
   * (`Team.players`), an FK constraint name, or the child's table/model name when exactly one
   * FK links the two.
   */
  childEdge(parent: TableInfo, name: string, where: string): ForeignKeyInfo {
    const byName = parent.referencedBy.find((fk) => fk.name === name);
    if (byName) return byName;
    const relation = this.relationField(parent, name);
    if (relation) return this.edgeOfRelation(parent, relation, where);
    const child = this.tables.get(name) ?? (this.dm?.models[name] ? this.tables.get(this.dm.models[name]?.dbName ?? name) : undefined);
    const candidates = child ? parent.referencedBy.filter((fk) => fk.table.name === child.name) : [];
    if (candidates.length === 1) return candidates[0] as ForeignKeyInfo;
    const known = parent.referencedBy.map((fk) => `${fk.name} (${fk.table.name}.${fk.columns.join("+")})`);
    throw new EtlError(
      "UNKNOWN_TABLE",
      candidates.length > 1
        ? `${where}: ${child?.name} references ${parent.name} through ${candidates.length} FKs; name one: ${candidates.map((f) => f.name).join(", ")}`
        : `${where}: "${name}" is no relation, FK or child table of ${parent.name}; FKs into it: ${known.join(", ") || "none"}`,
      { step: "config", table: parent.name },
    );
  }

  private relationField(parent: TableInfo, name: string): Field | undefined {
    const model = this.modelOf(parent.name);
    return model ? (this.dm?.models[model]?.fields.find((f) => f.name === name && f.kind === "object") as Field | undefined) : undefined;
  }

  private edgeOfRelation(parent: TableInfo, relation: Field, where: string): ForeignKeyInfo {
    const childModel = this.dm?.models[relation.type];
    const childTable = childModel ? (childModel.dbName ?? relation.type) : relation.type;
    const fks = parent.referencedBy.filter((fk) => fk.table.name === childTable);
    if (fks.length === 0) {
      throw new EtlError(
        "UNKNOWN_TABLE",
        `${where}: ${relation.name} is a parent relation of ${parent.name}, not a child one (parents are always included)`,
        {
          step: "config",
          table: parent.name,
        },
      );
    }
    if (fks.length === 1) return fks[0] as ForeignKeyInfo;
    // Prisma 7 keeps no relation columns at run time: match the child's side of the relation
    // (`homeTeam`) with its scalar FK field (`homeTeamId`), Prisma's naming convention.
    const back = (childModel?.fields as Field[] | undefined)?.find(
      (f) => f.kind === "object" && f.relationName === relation.relationName && f.name !== relation.name,
    );
    const fieldOf = (col: string) => childModel?.fields.find((f) => (f.dbName ?? f.name) === col)?.name ?? col;
    const match = back ? fks.filter((fk) => fk.columns.every((c) => fieldOf(c).startsWith(back.name))) : [];
    if (match.length === 1) return match[0] as ForeignKeyInfo;
    throw new EtlError(
      "UNKNOWN_TABLE",
      `${where}: relation ${relation.name} maps to one of ${fks.map((f) => f.name).join(", ")}; give the FK name instead`,
      { step: "config", table: parent.name },
    );
  }
}
