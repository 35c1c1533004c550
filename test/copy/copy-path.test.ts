import { PrismaPg } from "@prisma/adapter-pg";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { PrismaClient } from "../../etl/generated/prisma/client.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import type { ConfigInput } from "../../src/config/schema.js";
import { failure, nextRelease, sql, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject({ release: true });

const oldStyle = ({ url }: { url: string }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });

function logged(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: pino({ level: "info" }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) }) };
}

const etlWith = (extra: Partial<ConfigInput>, logger: pino.Logger) =>
  new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } }, extra), { logger });
const copyOffLines = (lines: Record<string, unknown>[]) => lines.filter((l) => l.copy === false);

describe("the client factory and the COPY path", () => {
  it("should load by INSERT … SELECT with a factory that builds its own adapter, logging one line that says COPY is off and why", async () => {
    const { logger, lines } = logged();
    const report = await etlWith({ client: oldStyle }, logger).import({ release: "r", url: db.url, backup: false });
    expect(report.outcome).toBe("committed");
    const off = copyOffLines(lines);
    expect(off).toHaveLength(1);
    expect(off[0]?.msg).toMatch(/^COPY is off: .*did not pass the adapter.*INSERT … SELECT/);
    expect(off[0]?.reason).toContain("new PrismaClient({ adapter })");
  });

  it("should store the same rows by COPY as by INSERT … SELECT, and log no COPY-off line when the factory uses the adapter", async () => {
    const insert = logged();
    await etlWith({ client: oldStyle }, insert.logger).import({ release: "r", url: db.url, backup: false });
    const byInsert = await stateOf(db.url);
    const copy = logged();
    const report = await etlWith({}, copy.logger).import({ release: "r", url: db.url, backup: false, redeploy: true });
    expect(report.outcome).toBe("committed");
    expect(copyOffLines(copy.lines)).toEqual([]);
    expect(await stateOf(db.url)).toEqual(byInsert);
  });

  it("should name the record a COPY line points at when Postgres refuses it for a reason the diagnosis cannot replay", async () => {
    // a trigger that refuses one player: the INSERT path can only name the batch's range
    await sql(
      db.url,
      `CREATE FUNCTION refuse_cy() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.full_name = 'Cy Mid' THEN RAISE EXCEPTION 'no Cy here'; END IF; RETURN NEW; END $$;
       CREATE TRIGGER refuse_cy BEFORE INSERT ON players FOR EACH ROW EXECUTE FUNCTION refuse_cy();`,
    );
    const players = nextRelease()["players.json"] as Record<string, unknown>[];
    const index = players.findIndex((p) => p.fullName === "Cy Mid");
    expect(index).toBeGreaterThan(0);
    const before = await stateOf(db.url);
    const f = await failure(etlWith({}, logged().logger).import({ release: "r", url: db.url, backup: false, batchSize: 100 }));
    expect(f.error.code).toBe("SQL_ERROR");
    expect(f.error).toMatchObject({ file: expect.stringContaining("players.json"), record: index, table: "players" });
    expect(f.error.message).toContain(`record #${index} of players: no Cy here`);
    expect(f.error.meta.copyLine).toBe(index + 1);
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should name record and field of a CHECK refusal on the COPY path with CONSTRAINT_VIOLATION, as the INSERT path does", async () => {
    await sql(db.url, `ALTER TABLE players ADD CONSTRAINT tall_enough CHECK (height_cm IS NULL OR height_cm > 185) NOT VALID`);
    const players = nextRelease()["players.json"] as Record<string, unknown>[];
    const index = players.findIndex((p) => typeof p.heightCm === "number" && p.heightCm <= 185);
    const codes = [];
    for (const client of [undefined, oldStyle]) {
      const f = await failure(etlWith(client ? { client } : {}, logged().logger).import({ release: "r", url: db.url, backup: false }));
      codes.push({ code: f.error.code, record: f.error.record, field: f.error.field });
    }
    expect(codes[0]).toEqual({ code: "CONSTRAINT_VIOLATION", record: index, field: "heightCm" });
    expect(codes[1]).toEqual(codes[0]);
  });
});
