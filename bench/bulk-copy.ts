/**
 * The limit of a bulk replace on this machine, as pg_restore does it: one psql transaction
 * that drops the targets' foreign keys and non-unique secondary indexes, runs `\copy` per
 * table, recreates them (indexes first, then the FKs, validated), and runs ANALYZE. Every
 * throughput ratio of `npm run bench` is taken against this script.
 */
import path from "node:path";
import { RELEASE_COLUMNS } from "../scripts/release-generator.js";
import { TABLES } from "./support.js";

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** The psql script (run with -X -1 -v ON_ERROR_STOP=1 -f) loading the CSV files of `csvDir`. */
export function bulkCopyScript(csvDir: string): string {
  const targets = `ARRAY[${TABLES.map((t) => `'${ident(t)}'::regclass`).join(", ")}]`;
  return [
    `CREATE TEMP TABLE bulk_ddl ON COMMIT DROP AS
  SELECT 1 AS ord, format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop_ddl,
         format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS create_ddl
    FROM pg_constraint WHERE contype = 'f' AND (conrelid = ANY(${targets}) OR confrelid = ANY(${targets}))
  UNION ALL
  SELECT 0, format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
    FROM pg_index i
   WHERE i.indrelid = ANY(${targets}) AND NOT i.indisunique AND NOT i.indisprimary
     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);`,
    `DO $$ DECLARE r record; BEGIN FOR r IN SELECT drop_ddl FROM bulk_ddl ORDER BY ord DESC LOOP EXECUTE r.drop_ddl; END LOOP; END $$;`,
    ...TABLES.map((t) => {
      const cols = RELEASE_COLUMNS[t].map(([, c]) => ident(c)).join(", ");
      return `\\copy ${ident(t)} (${cols}) FROM '${path.join(csvDir, `${t}.csv`)}' WITH (FORMAT csv, HEADER true)`;
    }),
    `DO $$ DECLARE r record; BEGIN FOR r IN SELECT create_ddl FROM bulk_ddl ORDER BY ord LOOP EXECUTE r.create_ddl; END LOOP; END $$;`,
    `ANALYZE ${TABLES.map(ident).join(", ")};`,
    "",
  ].join("\n");
}
