/**
 * prisma/schema.prisma and prisma/migrations must describe the same database.
 *
 * The migrations are applied to an empty database; its catalog (pg_catalog) is compared with
 * what Prisma's OWN schema parser (the wasm inside the `prisma` package, see
 * test/support/prisma-schema.ts) says the schema declares, and with the generated client's
 * runtime data model. Editing one side without the other fails here.
 *
 * The second half covers tools/migrations.ts: the offline applier must keep Prisma Migrate's
 * `_prisma_migrations` bookkeeping so `prisma migrate deploy` agrees with it later.
 */
import { randomUUID } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as GeneratedEnums from "../../etl/generated/prisma/enums.js";
import { Prisma, PrismaClient } from "../../etl/generated/prisma/client.js";
import { applyMigrations, MigrationError, migrationChecksum, PRISMA_MIGRATE_ADVISORY_LOCK } from "../../tools/migrations.js";
import { useTestDatabase } from "../fixtures/core/kit.js";
import { freshDatabase, MIGRATIONS_DIR, REPO_ROOT } from "../support/postgres.js";
import {
  type DmmfDatamodel,
  type ExpectedColumn,
  type ExpectedForeignKey,
  type ExpectedIndex,
  type ExpectedSchema,
  expectedTables,
  getDmmf,
} from "../support/prisma-schema.js";

const SCHEMA_FILE = path.join(REPO_ROOT, "prisma", "schema.prisma");
const INIT_MIGRATION = "20261121000000_init";

// ---------------------------------------------------------------------------------------------
// Reading the catalog
// ---------------------------------------------------------------------------------------------

interface CatalogTable {
  columns: Omit<ExpectedColumn, "field">[];
  primaryKey: { name: string; columns: string[] } | null;
  indexes: ExpectedIndex[];
  foreignKeys: ExpectedForeignKey[];
  /** Constraints other than the primary key and foreign keys (unique/check/exclusion): Prisma makes none. */
  otherConstraints: string[];
}

interface Catalog {
  tables: Record<string, CatalogTable>;
  enums: Record<string, string[]>;
}

const FK_ACTION: Record<string, string> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function readCatalog(url: string): Promise<Catalog> {
  return withClient(url, async (c) => {
    const tables: Record<string, CatalogTable> = {};
    const tableRows = await c.query<{ table: string }>(
      `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    );
    for (const { table } of tableRows.rows) {
      tables[table] = { columns: [], primaryKey: null, indexes: [], foreignKeys: [], otherConstraints: [] };
    }
    const get = (t: string): CatalogTable => {
      const entry = tables[t];
      if (!entry) throw new Error(`catalog: unknown table ${t}`);
      return entry;
    };

    const columns = await c.query<{
      table: string;
      column: string;
      type: string;
      nullable: boolean;
      default: string | null;
    }>(
      `SELECT c.relname AS table, a.attname AS column,
              CASE WHEN t.typtype = 'e' THEN t.typname::text ELSE format_type(a.atttypid, a.atttypmod) END AS type,
              NOT a.attnotnull AS nullable,
              pg_get_expr(d.adbin, d.adrelid) AS default
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY c.relname, a.attnum`,
    );
    for (const r of columns.rows) {
      get(r.table).columns.push({ column: r.column, type: r.type, nullable: r.nullable, default: r.default });
    }

    const indexes = await c.query<{ table: string; name: string; unique: boolean; primary: boolean; columns: string[] }>(
      `SELECT t.relname AS table, i.relname AS name, ix.indisunique AS unique, ix.indisprimary AS primary,
              ARRAY(SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord) AS columns
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = current_schema()
        ORDER BY t.relname, i.relname`,
    );
    for (const r of indexes.rows) {
      if (r.primary) get(r.table).primaryKey = { name: r.name, columns: r.columns };
      else get(r.table).indexes.push({ name: r.name, columns: r.columns, unique: r.unique });
    }

    const constraints = await c.query<{
      table: string;
      name: string;
      type: string;
      ref_table: string | null;
      columns: string[];
      ref_columns: string[];
      on_delete: string;
      on_update: string;
    }>(
      `SELECT cl.relname AS table, con.conname AS name, con.contype::text AS type, ref.relname AS ref_table,
              ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
              ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_columns,
              con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update
         FROM pg_constraint con
         JOIN pg_class cl ON cl.oid = con.conrelid
         JOIN pg_namespace n ON n.oid = cl.relnamespace
         LEFT JOIN pg_class ref ON ref.oid = con.confrelid
        WHERE n.nspname = current_schema()
        ORDER BY cl.relname, con.conname`,
    );
    for (const r of constraints.rows) {
      const t = get(r.table);
      if (r.type === "p") {
        if (t.primaryKey?.name !== r.name) t.otherConstraints.push(`primary key ${r.name} without matching index`);
      } else if (r.type === "f") {
        t.foreignKeys.push({
          name: r.name,
          columns: r.columns,
          refTable: r.ref_table ?? "?",
          refColumns: r.ref_columns,
          onDelete: FK_ACTION[r.on_delete] ?? r.on_delete,
          onUpdate: FK_ACTION[r.on_update] ?? r.on_update,
        });
      } else {
        t.otherConstraints.push(`${r.type}:${r.name}`);
      }
    }

    const enums = await c.query<{ name: string; labels: string[] }>(
      `SELECT t.typname::text AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = current_schema()
        GROUP BY t.typname ORDER BY t.typname`,
    );
    const enumMap: Record<string, string[]> = {};
    for (const r of enums.rows) enumMap[r.name] = r.labels;
    return { tables, enums: enumMap };
  });
}

// ---------------------------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------------------------

interface Differences {
  tables: string[];
  columns: string[];
  enums: string[];
  primaryKeys: string[];
  indexes: string[];
  foreignKeys: string[];
}

const show = (v: unknown) => JSON.stringify(v);
const byName = <T extends { name: string }>(xs: T[]) => [...xs].sort((a, b) => a.name.localeCompare(b.name));

/** Every way the catalog differs from what the Prisma schema declares (empty lists = in sync). */
function schemaDifferences(expected: ExpectedSchema, catalog: Catalog): Differences {
  const d: Differences = { tables: [], columns: [], enums: [], primaryKeys: [], indexes: [], foreignKeys: [] };
  const expectedNames = expected.tables.map((t) => t.table).sort();
  const actualNames = Object.keys(catalog.tables)
    .filter((t) => t !== "_prisma_migrations")
    .sort();
  for (const t of expectedNames) if (!actualNames.includes(t)) d.tables.push(`missing table ${t}`);
  for (const t of actualNames) if (!expectedNames.includes(t)) d.tables.push(`unexpected table ${t}`);

  for (const exp of expected.tables) {
    const act = catalog.tables[exp.table];
    if (!act) continue;
    // columns, in declaration order
    const expCols = exp.columns.map(({ field: _f, ...rest }) => rest);
    const max = Math.max(expCols.length, act.columns.length);
    for (let i = 0; i < max; i++) {
      const e = expCols[i];
      const a = act.columns[i];
      if (show(e) !== show(a)) d.columns.push(`${exp.table} column #${i + 1}: schema ${show(e)} vs database ${show(a)}`);
    }
    // primary key
    if (show(exp.primaryKey) !== show(act.primaryKey)) {
      d.primaryKeys.push(`${exp.table}: schema ${show(exp.primaryKey)} vs database ${show(act.primaryKey)}`);
    }
    for (const other of act.otherConstraints) d.primaryKeys.push(`${exp.table}: unexpected constraint ${other}`);
    // indexes
    const ei = byName(exp.indexes);
    const ai = byName(act.indexes);
    if (show(ei) !== show(ai)) d.indexes.push(`${exp.table}: schema ${show(ei)} vs database ${show(ai)}`);
    // foreign keys
    const ef = byName(exp.foreignKeys);
    const af = byName(act.foreignKeys);
    if (show(ef) !== show(af)) d.foreignKeys.push(`${exp.table}: schema ${show(ef)} vs database ${show(af)}`);
  }

  const expEnums = Object.keys(expected.enums).sort();
  const actEnums = Object.keys(catalog.enums).sort();
  for (const name of new Set([...expEnums, ...actEnums])) {
    const e = expected.enums[name];
    const a = catalog.enums[name];
    if (show(e) !== show(a)) d.enums.push(`enum ${name}: schema ${show(e)} vs database ${show(a)}`);
  }
  return d;
}

async function migrationsDirWith(sqlByName: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "atomic-etl-migrations-"));
  for (const [name, sql] of Object.entries(sqlByName)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, "migration.sql"), sql);
  }
  await writeFile(path.join(dir, "migration_lock.toml"), 'provider = "postgresql"\n');
  return dir;
}

// ---------------------------------------------------------------------------------------------
// schema.prisma ↔ migration SQL ↔ generated client
// ---------------------------------------------------------------------------------------------

describe("prisma/schema.prisma vs prisma/migrations", () => {
  const db = useTestDatabase({ migrate: false, scope: "suite" });
  let schemaText: string;
  let dmmf: DmmfDatamodel;
  let expected: ExpectedSchema;
  let catalog: Catalog;
  let differences: Differences;
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    schemaText = await readFile(SCHEMA_FILE, "utf8");
    dmmf = getDmmf(schemaText);
    expected = expectedTables(dmmf);
    await applyMigrations(db.url, MIGRATIONS_DIR);
    catalog = await readCatalog(db.url);
    differences = schemaDifferences(expected, catalog);
  });

  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  });

  it("should read the Prisma side with Prisma's own schema parser", () => {
    expect(dmmf.models.map((m) => m.name)).toEqual(["League", "Team", "Player", "Match", "PlayerMatchStat"]);
    expect(expected.tables.map((t) => t.table)).toEqual(["leagues", "teams", "players", "matches", "player_match_stats"]);
    expect(() => getDmmf(`${schemaText}\nmodel Broken { id Int @id\n  other Nope }\n`)).toThrow(/Nope/);
  });

  it("should create exactly the tables the schema declares, plus _prisma_migrations", () => {
    expect(differences.tables).toEqual([]);
    expect(Object.keys(catalog.tables)).toContain("_prisma_migrations");
  });

  it("should give every column the name, position, type, nullability and default the schema declares", () => {
    expect(differences.columns).toEqual([]);
    // spot checks that the mapping itself is what we think it is
    const players = catalog.tables.players?.columns ?? [];
    expect(players.find((c) => c.column === "market_value")?.type).toBe("numeric(14,2)");
    expect(players.find((c) => c.column === "updated_at")?.type).toBe("timestamp(3) with time zone");
    expect(players.find((c) => c.column === "full_name")?.type).toBe("character varying(120)");
    const stats = catalog.tables.player_match_stats?.columns ?? [];
    expect(stats.find((c) => c.column === "id")?.default).toBe("nextval('player_match_stats_id_seq'::regclass)");
    expect(stats.find((c) => c.column === "created_at")?.default).toBe("CURRENT_TIMESTAMP");
    expect(stats.find((c) => c.column === "goals")?.default).toBe("0");
    expect(stats.find((c) => c.column === "distance_km")?.type).toBe("double precision");
  });

  it("should report varchar lengths, numeric precision/scale and timestamp precision through information_schema too", async () => {
    const rows = await withClient(
      db.url,
      async (c) =>
        (
          await c.query<{
            table_name: string;
            column_name: string;
            data_type: string;
            udt_name: string;
            character_maximum_length: number | null;
            numeric_precision: number | null;
            numeric_scale: number | null;
            datetime_precision: number | null;
            is_nullable: "YES" | "NO";
          }>(
            `SELECT table_name, column_name, data_type, udt_name, character_maximum_length, numeric_precision,
                  numeric_scale, datetime_precision, is_nullable
             FROM information_schema.columns WHERE table_schema = current_schema()`,
          )
        ).rows,
    );
    const info = new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r]));
    let checked = 0;
    for (const model of dmmf.models) {
      const table = model.dbName ?? model.name;
      for (const f of model.fields) {
        if (f.kind === "object") continue;
        const r = info.get(`${table}.${f.dbName ?? f.name}`);
        expect(r, `${table}.${f.dbName ?? f.name}`).toBeDefined();
        if (!r) continue;
        expect(r.is_nullable, `${model.name}.${f.name} nullability`).toBe(f.isRequired ? "NO" : "YES");
        const [native, args = []] = f.nativeType ?? [];
        if (native === "VarChar") expect(r.character_maximum_length, `${model.name}.${f.name}`).toBe(Number(args[0]));
        if (native === "Decimal") {
          expect([r.numeric_precision, r.numeric_scale], `${model.name}.${f.name}`).toEqual(args.map(Number));
        }
        if (native === "Timestamptz" || native === "Timestamp") {
          expect(r.datetime_precision, `${model.name}.${f.name}`).toBe(Number(args[0]));
          expect(r.data_type).toBe(native === "Timestamptz" ? "timestamp with time zone" : "timestamp without time zone");
        }
        if (f.kind === "enum") {
          const e = dmmf.enums.find((x) => x.name === f.type);
          expect([r.data_type, r.udt_name]).toEqual(["USER-DEFINED", e?.dbName ?? e?.name]);
        }
        checked++;
      }
    }
    expect(checked).toBe(expected.tables.reduce((n, t) => n + t.columns.length, 0));
  });

  it("should create the enum types with the schema's labels in order", () => {
    expect(differences.enums).toEqual([]);
    expect(catalog.enums).toEqual({
      Position: ["GOALKEEPER", "DEFENDER", "MIDFIELDER", "FORWARD"],
      match_status: ["SCHEDULED", "LIVE", "FINISHED", "POSTPONED"],
    });
  });

  it("should name primary keys, unique indexes and plain indexes the way Prisma Migrate does", () => {
    expect(differences.primaryKeys).toEqual([]);
    expect(differences.indexes).toEqual([]);
    expect(catalog.tables.player_match_stats?.indexes).toContainEqual({
      name: "player_match_stats_player_id_match_id_key",
      columns: ["player_id", "match_id"],
      unique: true,
    });
  });

  it("should create every foreign key with its referenced table/column and ON DELETE/ON UPDATE actions", () => {
    expect(differences.foreignKeys).toEqual([]);
    expect(catalog.tables.matches?.foreignKeys.map((f) => f.name).sort()).toEqual([
      "matches_away_team_id_fkey",
      "matches_home_team_id_fkey",
      "matches_league_id_fkey",
    ]);
  });

  it("should detect a migration edited without the schema (self-check of this comparison)", async () => {
    const original = await readFile(path.join(MIGRATIONS_DIR, INIT_MIGRATION, "migration.sql"), "utf8");
    const drifted = original
      .replace('"code" VARCHAR(12) NOT NULL', '"code" VARCHAR(13) NOT NULL')
      .replace('"rating" DECIMAL(4,2)', '"rating" DECIMAL(5,2)')
      .replace('"short_name" VARCHAR(10),', '"short_name" VARCHAR(10) NOT NULL,')
      .replace(
        `"teams_league_id_fkey" FOREIGN KEY ("league_id") REFERENCES "leagues"("id") ON DELETE RESTRICT`,
        `"teams_league_id_fkey" FOREIGN KEY ("league_id") REFERENCES "leagues"("id") ON DELETE CASCADE`,
      )
      .replace(`'LIVE', `, "")
      .replace(/-- CreateIndex\nCREATE INDEX "matches_league_id_idx"[^\n]*\n/, "");
    expect(drifted).not.toBe(original);
    const dir = await migrationsDirWith({ [INIT_MIGRATION]: drifted });
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const other = await freshDatabase({ migrate: false });
    cleanup.push(() => other.drop());
    await applyMigrations(other.url, dir);
    const d = schemaDifferences(expected, await readCatalog(other.url));
    expect(d.columns.join("\n")).toMatch(/leagues column #2.*character varying\(13\)/);
    expect(d.columns.join("\n")).toMatch(/player_match_stats column #7.*numeric\(5,2\)/);
    expect(d.columns.join("\n")).toMatch(/teams column #4.*"nullable":false/);
    expect(d.foreignKeys.join("\n")).toMatch(/teams:.*CASCADE/);
    expect(d.enums.join("\n")).toMatch(/match_status/);
    expect(d.indexes.join("\n")).toMatch(/matches_league_id_idx/);
  });

  it("should detect a schema edited without a migration (self-check of this comparison)", () => {
    const edited = schemaText
      .replace("name    String   @db.VarChar(100)", "name    String   @db.VarChar(101)")
      .replace("attendance   Int?", "attendance   Int?\n  referee      String?");
    expect(edited).not.toBe(schemaText);
    const d = schemaDifferences(expectedTables(getDmmf(edited)), catalog);
    expect(d.columns.join("\n")).toMatch(/leagues column #3.*character varying\(101\)/);
    expect(d.columns.join("\n")).toMatch(/matches column #11.*referee/);
  });

  it("should map models and fields to the same tables and columns in the generated client", () => {
    const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
    const runtime = (
      client as unknown as {
        _runtimeDataModel: {
          models: Record<string, { dbName: string | null; fields: { name: string; kind: string; type: string; dbName?: string | null }[] }>;
        };
      }
    )._runtimeDataModel;
    expect(Object.keys(runtime.models).sort()).toEqual(dmmf.models.map((m) => m.name).sort());
    for (const model of dmmf.models) {
      const rt = runtime.models[model.name];
      expect(rt?.dbName ?? model.name, `table of ${model.name}`).toBe(model.dbName ?? model.name);
      const rtFields = (rt?.fields ?? []).map((f) => ({ name: f.name, kind: f.kind, type: f.type, column: f.dbName ?? f.name }));
      const schemaFields = model.fields.map((f) => ({ name: f.name, kind: f.kind, type: f.type, column: f.dbName ?? f.name }));
      expect(rtFields, `fields of ${model.name}`).toEqual(schemaFields);
    }
    // …and the generated ModelName / enum objects agree with the database
    expect(Object.values(Prisma.ModelName).sort()).toEqual(dmmf.models.map((m) => m.name).sort());
    expect(Object.values(GeneratedEnums.Position)).toEqual(catalog.enums.Position);
    expect(Object.values(GeneratedEnums.MatchStatus)).toEqual(catalog.enums.match_status);
  });

  it("should round-trip a row of every model through the generated client on the migrated database", async () => {
    const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
    try {
      await client.league.create({ data: { id: 1, code: "PL-2026", name: "Premier", country: "England", season: 2026 } });
      await client.team.createMany({
        data: [
          { id: 10, leagueId: 1, name: "Home FC", shortName: "HFC", founded: 1899 },
          { id: 11, leagueId: 1, name: "Away United", shortName: null, founded: null },
        ],
      });
      await client.player.create({
        data: {
          id: 100,
          teamId: 10,
          fullName: "Zoë Łukasz-O'Brien",
          position: "MIDFIELDER",
          birthDate: new Date("1999-02-28T00:00:00Z"),
          heightCm: 181,
          marketValue: new Prisma.Decimal("123456789012.34"),
          externalId: 9007199254740993n,
          attributes: { foot: "left", tags: ["captain"], ratings: { pace: 88 } },
          updatedAt: new Date("2026-01-02T03:04:05.678Z"),
        },
      });
      await client.match.create({
        data: {
          id: 1000,
          leagueId: 1,
          homeTeamId: 10,
          awayTeamId: 11,
          kickoffAt: new Date("2026-08-15T14:00:00.123Z"),
          localKickoff: new Date("2026-08-15T15:00:00.123Z"),
          status: "FINISHED",
          homeGoals: 2,
          awayGoals: 1,
          attendance: 41234,
        },
      });
      const stat = await client.playerMatchStat.create({
        data: { playerId: 100, matchId: 1000, minutesPlayed: 90, rating: new Prisma.Decimal("7.25"), distanceKm: 11.3 },
      });
      expect(stat.id).toBe(1);
      expect(stat.goals).toBe(0);
      expect(stat.createdAt).toBeInstanceOf(Date);

      const player = await client.player.findUniqueOrThrow({ where: { externalId: 9007199254740993n } });
      expect(player.marketValue?.toString()).toBe("123456789012.34");
      expect(player.externalId).toBe(9007199254740993n);
      expect(player.attributes).toEqual({ foot: "left", tags: ["captain"], ratings: { pace: 88 } });
      expect(player.birthDate?.toISOString()).toBe("1999-02-28T00:00:00.000Z");
      expect(player.updatedAt.toISOString()).toBe("2026-01-02T03:04:05.678Z");
      const match = await client.match.findUniqueOrThrow({ where: { id: 1000 }, include: { stats: true } });
      expect(match.status).toBe("FINISHED");
      expect(match.kickoffAt.toISOString()).toBe("2026-08-15T14:00:00.123Z");
      expect(match.localKickoff?.toISOString()).toBe("2026-08-15T15:00:00.123Z");
      expect(match.stats.map((s) => s.rating?.toString())).toEqual(["7.25"]);
      await expect(client.playerMatchStat.create({ data: { playerId: 100, matchId: 1000, minutesPlayed: 1 } })).rejects.toThrow(
        /Unique constraint/i,
      );
    } finally {
      await client.$disconnect();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// tools/migrations.ts: offline applier with Prisma Migrate's bookkeeping
// ---------------------------------------------------------------------------------------------

describe("applyMigrations", () => {
  /** An empty scratch database per test. */
  const db = useTestDatabase({ migrate: false });
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  });

  async function tempMigrations(sqlByName: Record<string, string>): Promise<string> {
    const dir = await migrationsDirWith(sqlByName);
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  it("should record each migration in _prisma_migrations with Prisma Migrate's table and values", async () => {
    const events: object[] = [];
    const result = await applyMigrations(db.url, MIGRATIONS_DIR, { log: (e) => events.push(e) });
    expect(result).toEqual({ applied: [INIT_MIGRATION], skipped: [] });
    expect(events).toContainEqual(expect.objectContaining({ event: "migration.applied", migration: INIT_MIGRATION }));

    const { columns, rows } = await withClient(db.url, async (c) => ({
      columns: (
        await c.query(
          `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '_prisma_migrations'
            ORDER BY ordinal_position`,
        )
      ).rows,
      rows: (await c.query("SELECT * FROM _prisma_migrations")).rows,
    }));
    expect(columns).toEqual([
      { column_name: "id", data_type: "character varying", len: 36, is_nullable: "NO", column_default: null },
      { column_name: "checksum", data_type: "character varying", len: 64, is_nullable: "NO", column_default: null },
      { column_name: "finished_at", data_type: "timestamp with time zone", len: null, is_nullable: "YES", column_default: null },
      { column_name: "migration_name", data_type: "character varying", len: 255, is_nullable: "NO", column_default: null },
      { column_name: "logs", data_type: "text", len: null, is_nullable: "YES", column_default: null },
      { column_name: "rolled_back_at", data_type: "timestamp with time zone", len: null, is_nullable: "YES", column_default: null },
      { column_name: "started_at", data_type: "timestamp with time zone", len: null, is_nullable: "NO", column_default: "now()" },
      { column_name: "applied_steps_count", data_type: "integer", len: null, is_nullable: "NO", column_default: "0" },
    ]);
    const sql = await readFile(path.join(MIGRATIONS_DIR, INIT_MIGRATION, "migration.sql"));
    expect(rows).toHaveLength(1);
    const row = rows[0] as Record<string, unknown>;
    expect(row.migration_name).toBe(INIT_MIGRATION);
    expect(row.checksum).toBe(migrationChecksum(sql));
    expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row.finished_at).toBeInstanceOf(Date);
    expect(row.rolled_back_at).toBeNull();
    expect(row.logs).toBeNull();
    expect(row.applied_steps_count).toBe(1);
  });

  it("should skip migrations that are already applied", async () => {
    await applyMigrations(db.url, MIGRATIONS_DIR);
    const again = await applyMigrations(db.url, MIGRATIONS_DIR);
    expect(again).toEqual({ applied: [], skipped: [INIT_MIGRATION] });
  });

  it("should apply migrations in name order and only the new ones on a later run", async () => {
    const dir = await tempMigrations({
      "20260102000000_second": 'ALTER TABLE "a" ADD COLUMN "b" INTEGER;',
      "20260101000000_first": 'CREATE TABLE "a" ("id" INTEGER NOT NULL);',
    });
    expect(await applyMigrations(db.url, dir)).toEqual({
      applied: ["20260101000000_first", "20260102000000_second"],
      skipped: [],
    });
    await mkdir(path.join(dir, "20260103000000_third"));
    await writeFile(path.join(dir, "20260103000000_third", "migration.sql"), 'ALTER TABLE "a" ADD COLUMN "c" TEXT;');
    await mkdir(path.join(dir, "not_a_migration")); // no migration.sql: ignored
    expect(await applyMigrations(db.url, dir)).toEqual({
      applied: ["20260103000000_third"],
      skipped: ["20260101000000_first", "20260102000000_second"],
    });
  });

  it("should refuse a migration edited after it was applied with MIGRATION_CHECKSUM_MISMATCH", async () => {
    const dir = await tempMigrations({});
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await applyMigrations(db.url, dir);
    const file = path.join(dir, INIT_MIGRATION, "migration.sql");
    const original = await readFile(file, "utf8");

    // line endings converted by git on Windows: still the same migration, like Prisma says
    await writeFile(file, original.replace(/\n/g, "\r\n"));
    expect((await applyMigrations(db.url, dir)).skipped).toEqual([INIT_MIGRATION]);

    await writeFile(file, `${original}\n-- edited\n`);
    const err = await applyMigrations(db.url, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect(err).toBeInstanceOf(Error);
    expect((err as MigrationError).code).toBe("MIGRATION_CHECKSUM_MISMATCH");
    expect((err as MigrationError).message).toContain(INIT_MIGRATION);
  });

  it("should roll back a failing migration and report MIGRATION_FAILED with its name and the Postgres message", async () => {
    const dir = await tempMigrations({
      "20260101000000_ok": 'CREATE TABLE "ok" ("id" INTEGER);',
      "20260102000000_broken": 'CREATE TABLE "half" ("id" INTEGER);\nSELECT 1 / 0;',
      "20260103000000_never": 'CREATE TABLE "never" ("id" INTEGER);',
    });
    const err = await applyMigrations(db.url, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    const me = err as MigrationError;
    expect(me.code).toBe("MIGRATION_FAILED");
    expect(me.migration).toBe("20260102000000_broken");
    expect(me.message).toContain("20260102000000_broken");
    expect(me.message).toContain("division by zero");
    expect((me.cause as { code?: string }).code).toBe("22012");

    const state = await withClient(db.url, async (c) => ({
      tables: (
        await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
      ).rows.map((r) => r.t),
      history: (await c.query<{ migration_name: string }>("SELECT migration_name FROM _prisma_migrations")).rows.map(
        (r) => r.migration_name,
      ),
    }));
    expect(state.tables).toEqual(["_prisma_migrations", "ok"]);
    expect(state.history).toEqual(["20260101000000_ok"]);
  });

  it("should refuse to continue past a failed attempt recorded by Prisma Migrate", async () => {
    const dir = await tempMigrations({ "20260101000000_x": 'CREATE TABLE "x" ("id" INTEGER);' });
    await applyMigrations(db.url, await tempMigrations({})); // creates _prisma_migrations only
    await withClient(db.url, (c) =>
      c.query(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, started_at, applied_steps_count)
         VALUES ($1, $2, '20260101000000_x', 'boom', now(), 0)`,
        [randomUUID(), migrationChecksum('CREATE TABLE "x" ("id" INTEGER);')],
      ),
    );
    await expect(applyMigrations(db.url, dir)).rejects.toMatchObject({
      code: "MIGRATION_FAILED",
      message: expect.stringContaining("prisma migrate resolve"),
    });
  });

  it("should wait for Prisma Migrate's advisory lock", async () => {
    const holder = new pg.Client({ connectionString: db.url });
    holder.on("error", () => {});
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_ADVISORY_LOCK]);
      let done = false;
      const run = applyMigrations(db.url, MIGRATIONS_DIR).then((r) => {
        done = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 400));
      expect(done).toBe(false);
      await holder.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATE_ADVISORY_LOCK]);
      expect(await run).toEqual({ applied: [INIT_MIGRATION], skipped: [] });
    } finally {
      await holder.end().catch(() => {});
    }
  });

  it("should give up with MIGRATION_FAILED when the advisory lock stays taken past lockTimeoutMs", async () => {
    const holder = new pg.Client({ connectionString: db.url });
    holder.on("error", () => {});
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_ADVISORY_LOCK]);
      const err = await applyMigrations(db.url, MIGRATIONS_DIR, { lockTimeoutMs: 200 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as MigrationError).code).toBe("MIGRATION_FAILED");
      expect((err as MigrationError).message).toContain("advisory lock");
      const { rows } = await holder.query("SELECT to_regclass('leagues') AS t");
      expect(rows[0]?.t).toBeNull();
    } finally {
      await holder.end().catch(() => {});
    }
  });
});
