/** A small table with a camelCase-mapped jsonb column, and its Prisma data model: for validator unit tests. */
import type { TableInfo } from "../../src/sql/catalog.js";
import { columnInfo } from "../fixtures/catalog.js";

export const docs: TableInfo = {
  schema: "public",
  name: "docs",
  columns: [columnInfo("id", "int4", { nullable: false }), columnInfo("doc_body", "jsonb"), columnInfo("label", "text")],
  primaryKey: ["id"],
  uniqueKeys: [],
  foreignKeys: [],
  referencedBy: [],
  partitioned: false,
  partitions: [],
  partitionKey: [],
};

export const dm = {
  models: {
    Doc: {
      dbName: "docs",
      fields: [
        { name: "id", kind: "scalar", type: "Int" },
        { name: "docBody", kind: "scalar", type: "Json", dbName: "doc_body" },
        { name: "label", kind: "scalar", type: "String" },
      ],
    },
  },
};
