/**
 * Prisma's client-side defaults (`@default(cuid())`, `cuid(2)`, `uuid()`, `uuid(7)`,
 * `nanoid()`, `nanoid(n)`, `ulid()`, `@updatedAt`): a release that leaves those fields out is
 * filled as the app's client would fill it, read from the schema the generated client embeds.
 */
import { readFileSync } from "node:fs";
import { PrismaPg } from "@prisma/adapter-pg";
import { beforeEach, describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { clientSchemaOf, parseClientDefaults } from "../../src/db/client-schema.js";
import { uuidv7 } from "../../src/validation/id-generators.js";
import { failure, sql, useTestProject } from "../fixtures/core/kit.js";
import { PrismaClient } from "../fixtures/client-defaults/generated/client.js";
import { runSql } from "../support/postgres.js";

const SCHEMA_SQL = readFileSync(new URL("../fixtures/client-defaults/schema.sql", import.meta.url), "utf8");
const SCHEMA_PRISMA = readFileSync(new URL("../fixtures/client-defaults/schema.prisma", import.meta.url), "utf8");
const client = ({ url }: { url: string }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });

const { db, ws } = useTestProject({ migrate: false });
beforeEach(() => runSql(db.url, SCHEMA_SQL));

const etl = () => new AtomicEtl(ws.config({ r: { tables: [{ model: "Widget", file: "widgets.json" }] } }, { client }));

interface Widget {
  id: string;
  cuid_2: string;
  uuid_4: string;
  uuid_7: string;
  nano: string;
  nano_8: string;
  sortable: string;
  name: string;
  updated_at: Date;
}
const widgets = () =>
  sql<Widget>(db.url, "SELECT id, cuid_2, uuid_4::text, uuid_7::text, nano, nano_8, sortable, name, updated_at FROM widgets ORDER BY name");

describe("Prisma's client-side defaults", () => {
  it("should read every kind of client-side default from the schema the generated client embeds", async () => {
    const fromClient = await clientSchemaOf(client({ url: db.url }) as never);
    expect(fromClient.unreadable).toBeNull();
    expect(Object.fromEntries(fromClient.defaults.get("Widget") ?? [])).toEqual({
      id: { kind: "cuid", version: 1 },
      cuid2: { kind: "cuid", version: 2 },
      uuid4: { kind: "uuid", version: 4 },
      uuid7: { kind: "uuid", version: 7 },
      nano: { kind: "nanoid", length: undefined },
      nano8: { kind: "nanoid", length: 8 },
      sortable: { kind: "ulid" },
      updatedAt: { kind: "updatedAt" },
    });
    expect(await parseClientDefaults(SCHEMA_PRISMA)).toEqual(fromClient.defaults);
  });

  it("should fill each client-side default a record leaves out, as Prisma's client would, and keep the values given", async () => {
    const given = { id: "given-id", uuid4: "00000000-0000-4000-8000-000000000001", updatedAt: "2020-01-01T00:00:00.000Z" };
    await ws.writeRelease("r", { "widgets.json": [{ name: "a" }, { name: "b" }, { name: "c", ...given }] });
    const started = Date.now();
    const report = await etl().import({ release: "r", url: db.url });
    expect(report.outcome).toBe("committed");
    const [a, b, c] = (await widgets()) as [Widget, Widget, Widget];

    expect(a.id).toMatch(/^c[0-9a-z]{24}$/); // cuid v1
    expect(a.cuid_2).toMatch(/^[a-z][0-9a-z]{23}$/); // cuid2, 24 characters
    expect(a.uuid_4).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.uuid_7).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = Number.parseInt(a.uuid_7.replace(/-/g, "").slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(started - 1_000);
    expect(ms).toBeLessThanOrEqual(Date.now());
    expect(a.nano).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(a.nano_8).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(a.sortable).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/); // ulid, Crockford base 32
    expect(a.updated_at.getTime()).toBeGreaterThanOrEqual(started - 1_000);
    // one timestamp for the table's records, as for the rows of one createMany
    expect(b.updated_at).toEqual(a.updated_at);
    for (const k of ["id", "cuid_2", "uuid_4", "uuid_7", "nano", "nano_8", "sortable"] as const) expect(b[k]).not.toBe(a[k]);

    expect(c).toMatchObject({ id: "given-id", uuid_4: given.uuid4, updated_at: new Date(given.updatedAt) });
    expect(c.cuid_2).toMatch(/^[a-z][0-9a-z]{23}$/);
  });

  it("should still refuse an explicit null in a NOT NULL client-default column, naming the record", async () => {
    await ws.writeRelease("r", { "widgets.json": [{ name: "a" }, { name: "b", uuid7: null }] });
    const f = await failure(etl().import({ release: "r", url: db.url }));
    expect(f.error).toMatchObject({ code: "VALIDATION_FAILED", record: 1, field: "uuid7", data: "rolled back; database unchanged" });
    expect(await widgets()).toEqual([]);
  });

  it("should keep a matched row's id in a merge by another key: a client-side id is a new row's, never a new id", async () => {
    const merge = () =>
      new AtomicEtl(
        ws.config({ r: { tables: [{ model: "Widget", file: "widgets.json", mode: "merge", merge: { key: "name" } }] } }, { client }),
      );
    await ws.writeRelease("r", { "widgets.json": [{ name: "a" }] });
    await merge().import({ release: "r", url: db.url });
    const [first] = (await widgets()) as [Widget];
    await ws.writeRelease("r", { "widgets.json": [{ name: "a" }, { name: "b" }] });
    expect((await merge().import({ release: "r", url: db.url })).outcome).toBe("committed");
    const [a, b] = (await widgets()) as [Widget, Widget];
    expect(a).toMatchObject({ name: "a", id: first.id, uuid_4: first.uuid_4, sortable: first.sortable });
    expect(b.id).toMatch(/^c[0-9a-z]{24}$/);
    expect(b.id).not.toBe(a.id);
  });

  it("should make UUID v7s that sort in the order they were made, also within one millisecond", () => {
    const started = Date.now();
    const ids = Array.from({ length: 20_000 }, () => uuidv7());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // some share a millisecond: there the counter (rand_a) kept the order
    const millis = new Set(ids.map((id) => id.slice(0, 13)));
    expect(millis.size).toBeLessThan(ids.length);
    expect(Number.parseInt(ids[0]!.replace(/-/g, "").slice(0, 12), 16)).toBeGreaterThanOrEqual(started);
  });
});
