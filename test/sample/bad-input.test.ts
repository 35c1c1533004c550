import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { EtlError } from "../../src/errors.js";
import { getFreePort } from "../../tools/harness/throwaway-postgres.js";
import { useTestProject } from "../fixtures/core/kit.js";
import { runSql } from "../support/postgres.js";
import { GRAPH_DATA, GRAPH_DDL } from "./graph-schema.js";
import { expectNothingWritten, runSample, sampleConfig } from "./support.js";

const { db: source, ws } = useTestProject({ migrate: false, scope: "suite" });
beforeAll(async () => {
  await runSql(
    source.url,
    ...GRAPH_DDL,
    ...GRAPH_DATA,
    // a cycle no import order can load: both FKs NOT DEFERRABLE
    `CREATE TABLE captains (id int PRIMARY KEY, crew_id int)`,
    `CREATE TABLE crews (id int PRIMARY KEY, captain_id int NOT NULL REFERENCES captains(id), org_id int REFERENCES orgs(id))`,
    `ALTER TABLE captains ADD FOREIGN KEY (crew_id) REFERENCES crews(id)`,
    // an FK the source does not enforce for old rows: its closure must be checked, not assumed
    `CREATE TABLE orphans (id int PRIMARY KEY, org_id int)`,
    `INSERT INTO orphans VALUES (1, 1), (2, 99)`,
    `ALTER TABLE orphans ADD CONSTRAINT orphans_org_fkey FOREIGN KEY (org_id) REFERENCES orgs(id) NOT VALID`,
    // the same through a self-reference: the file check reads such a child after its own keys
    `CREATE TABLE nodes (id int PRIMARY KEY, up int)`,
    `INSERT INTO nodes VALUES (1, NULL), (2, 1), (3, 77)`,
    `ALTER TABLE nodes ADD CONSTRAINT nodes_up_fkey FOREIGN KEY (up) REFERENCES nodes(id) NOT VALID`,
    // two FKs of one name, on two tables (names are unique per table only), the second one broken
    `CREATE TABLE dup_p (id int PRIMARY KEY)`,
    `INSERT INTO dup_p VALUES (1), (2)`,
    `CREATE TABLE dup_a (id int PRIMARY KEY, p_id int CONSTRAINT fk REFERENCES dup_p(id))`,
    `INSERT INTO dup_a VALUES (1, 1)`,
    `CREATE TABLE dup_b (id int PRIMARY KEY, p_id int)`,
    `INSERT INTO dup_b VALUES (1, 2), (2, 99)`,
    `ALTER TABLE dup_b ADD CONSTRAINT fk FOREIGN KEY (p_id) REFERENCES dup_p(id) NOT VALID`,
    // keys beyond 2^53: 9007199254740993 and 9007199254740992 are one double
    `CREATE TABLE big_parents (id bigint PRIMARY KEY)`,
    `INSERT INTO big_parents VALUES (9007199254740992), (5)`,
    `CREATE TABLE big_children (id int PRIMARY KEY, parent_id bigint)`,
    `INSERT INTO big_children VALUES (1, 5), (2, 9007199254740993)`,
    `ALTER TABLE big_children ADD CONSTRAINT big_children_parent_fkey FOREIGN KEY (parent_id) REFERENCES big_parents(id) NOT VALID`,
    // numeric keys: one equal to its parent only as a double, one written with trailing zeros
    `CREATE TABLE num_parents (id numeric(30,16) PRIMARY KEY)`,
    `INSERT INTO num_parents VALUES (1), (1234567890.000000)`,
    `CREATE TABLE num_children (id int PRIMARY KEY, parent_id numeric(30,16), note text)`,
    `INSERT INTO num_children VALUES (1, 1234567890.000000, 'a'), (2, 1.0000000000000001, 'b')`,
    `ALTER TABLE num_children ADD CONSTRAINT num_children_parent_fkey FOREIGN KEY (parent_id) REFERENCES num_parents(id) NOT VALID`,
    `CREATE TABLE events (id int, at date NOT NULL, org_id int REFERENCES orgs(id), PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`,
    `CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
    `CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-06-01')`,
    `INSERT INTO events SELECT i, date '2025-06-01' + i, 1 + i % 2 FROM generate_series(1, 400) i`,
  );
});

const out = (name: string) => path.join(ws.root, "releases", name);

async function refused(name: string, sample: Record<string, unknown> | null, o: { limits?: string[]; url?: string } = {}) {
  const config = sampleConfig(ws, { samples: sample ? { [name]: sample } : {} });
  const e = await runSample(config, o.url ?? source.url, { name, limits: o.limits }).then(
    () => null,
    (x: unknown) => x,
  );
  await expectNothingWritten(out(name));
  return e;
}

describe("bad input is refused with a stable code, and nothing is written", () => {
  it("should refuse an unreachable source", async () => {
    const u = new URL(source.url);
    u.port = String(await getFreePort());
    const e = await refused("b1", { tables: ["orgs"], limits: { "*": 1 } }, { url: u.toString() });
    expect(e).toMatchObject({ code: "SOURCE_UNREACHABLE", exitCode: 9, step: "snapshot" });
    expect((e as Error).message).not.toContain(u.password);
  });

  it("should refuse a source URL that is not PostgreSQL's or does not parse, before connecting (URL_INVALID, as import)", async () => {
    const spec = { tables: ["orgs"], limits: { "*": 1 } };
    const bad = await refused("b1a", spec, { url: "not a url" });
    expect(bad).toMatchObject({ code: "URL_INVALID", exitCode: 17, step: "config" });
    const u = new URL(source.url);
    u.protocol = "mysql:";
    const mysql = await refused("b1b", spec, { url: u.toString() });
    expect(mysql).toMatchObject({ code: "URL_INVALID", exitCode: 17 });
    expect((mysql as Error).message).toContain("mysql://");
    expect((mysql as Error).message).not.toContain(u.password);
  });

  it("should say a wrong password or database name is that, not a network problem", async () => {
    const spec = { tables: ["orgs"], limits: { "*": 1 } };
    const u = new URL(source.url);
    u.password = "not-the-password";
    const auth = await refused("b1c", spec, { url: u.toString() });
    expect(auth).toMatchObject({ code: "AUTH_FAILED", exitCode: 15, step: "snapshot" });
    expect((auth as EtlError).next).toContain("password");
    const db = new URL(source.url);
    db.pathname = "/no_such_database";
    const missing = await refused("b1d", spec, { url: db.toString() });
    expect(missing).toMatchObject({ code: "DATABASE_NOT_FOUND", exitCode: 16 });
  });

  it("should refuse a limit that names an unknown table", async () => {
    const e = await refused("b2", null, { limits: ["*=10", "nope=5"] });
    expect(e).toMatchObject({ code: "UNKNOWN_TABLE", exitCode: 2 });
    expect((e as Error).message).toContain('"nope"');
  });

  it("should refuse a mask on an unknown column", async () => {
    const e = await refused("b3", { tables: ["orgs", "regions", "employees"], limits: { orgs: 1 }, masks: { "employees.salary": "null" } });
    expect(e).toMatchObject({ code: "UNKNOWN_COLUMN", exitCode: 2, table: "employees", field: "salary" });
    expect((e as EtlError).next).toContain(`fix the name in masks["employees.salary"]`);
  });

  it("should name the mask rules when one is misspelled", () => {
    const e = (() => {
      try {
        return sampleConfig(ws, { samples: { b3b: { masks: { "employees.name": "nmae" } } } as never });
      } catch (x) {
        return x;
      }
    })();
    expect(e).toMatchObject({ code: "CONFIG_INVALID" });
    expect((e as Error).message).toContain('samples.b3b.masks.employees.name: expected a mask rule: "email", "name", "phone", "text"');
  });

  it("should refuse a cycle that cannot close when children are asked for, naming it and the include", async () => {
    const e = await refused("b4", { tables: ["orgs", "regions", "employees"], limits: { orgs: 1 }, include: { orgs: ["crews"] } });
    expect(e).toMatchObject({ code: "SAMPLE_CYCLE", exitCode: 6 });
    expect((e as Error).message).toMatch(/captains -> crews -> captains|crews -> captains -> crews/);
    expect((e as Error).message).toContain("children of orgs (FK crews_org_id_fkey");
  });

  it("should refuse an output directory that exists unless --force, then swap it whole", async () => {
    await mkdir(out("b5"), { recursive: true });
    await writeFile(path.join(out("b5"), "keep.txt"), "mine");
    const config = sampleConfig(ws, { samples: { b5: { tables: ["orgs"], limits: { orgs: 2 } } } });
    const e = await runSample(config, source.url, { name: "b5" }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "OUTPUT_EXISTS", exitCode: 2 });
    expect(await readdir(out("b5"))).toEqual(["keep.txt"]);
    await runSample(config, source.url, { name: "b5", force: true });
    expect((await readdir(out("b5"))).sort()).toEqual(["orgs.ndjson", "release.json"]);
    expect((await readdir(path.dirname(out("b5")))).filter((n) => n.startsWith("b5."))).toEqual([]);
  });

  it("should find a row whose parent is missing, in the files and in the snapshot, and keep nothing", async () => {
    const files = await refused("b8", { tables: ["orgs", "orphans"], limits: { orphans: 10 } });
    expect(files).toMatchObject({
      code: "CLOSURE_BROKEN",
      exitCode: 5,
      step: "verify",
      file: "orphans.ndjson",
      record: 1,
      meta: { fk: "orphans_org_fkey" },
    });
    const whole = await refused("b9", { tables: ["orgs", "orphans"], limits: { "*": "all" } });
    expect(whole).toMatchObject({ code: "CLOSURE_BROKEN", step: "verify", table: "orphans", meta: { fk: "orphans_org_fkey" } });
  });

  it("should check and count an FK whose name another table's FK has, whichever of them the snapshot checks", async () => {
    // dup_a's fk is checked in the snapshot (both tables whole), dup_b's from the files
    const e = await refused("b15", { tables: ["dup_p", "dup_a", "dup_b"], limits: { dup_p: "all", dup_a: "all", dup_b: 10 } });
    expect(e).toMatchObject({ code: "CLOSURE_BROKEN", file: "dup_b.ndjson", record: 1, table: "dup_b", meta: { fk: "fk" } });
    const config = sampleConfig(ws, {
      samples: { b16: { tables: ["dup_p", "dup_a", "dup_b"], limits: { dup_p: "all", dup_a: "all", dup_b: 1 } } },
    });
    const r = await runSample(config, source.url, { name: "b16" });
    expect(r.manifest.closure.filter((c) => c.fk === "fk")).toEqual([
      expect.objectContaining({ child: "dup_a", checked: 1, resolved: 1, verifiedBy: "snapshot" }),
      expect.objectContaining({ child: "dup_b", checked: 1, resolved: 1, verifiedBy: "files" }),
    ]);
  });

  it("should find a row whose parent is missing through a self-reference, in the pass after its own keys", async () => {
    const e = await refused("b14", { tables: ["nodes"], where: { nodes: "t.id >= 2" } });
    expect(e).toMatchObject({ code: "CLOSURE_BROKEN", step: "verify", file: "nodes.ndjson", record: 2, meta: { fk: "nodes_up_fkey" } });
    expect((e as Error).message).toContain("= 77 has no row in nodes");
  });

  it("should find a missing parent whose key differs from a present one only beyond 2^53", async () => {
    const e = await refused("b12", { tables: ["big_parents", "big_children"], limits: { big_children: 10, big_parents: 10 } });
    expect(e).toMatchObject({
      code: "CLOSURE_BROKEN",
      step: "verify",
      file: "big_children.ndjson",
      record: 1,
      meta: { fk: "big_children_parent_fkey" },
    });
    expect((e as Error).message).toContain("9007199254740993");
  });

  it("should find a missing numeric parent that equals a present one only as a double", async () => {
    const e = await refused("b13", { tables: ["num_parents", "num_children"], limits: { num_children: 10, num_parents: 10 } });
    expect(e).toMatchObject({ code: "CLOSURE_BROKEN", step: "verify", file: "num_children.ndjson", record: 1 });
  });

  it("should resolve a numeric key written with trailing zeros on both sides, masked or not", async () => {
    process.env.TEST_B14_SECRET = "test-secret-0123456789abcdef";
    try {
      // the masked child's line is written again with its long numbers quoted: "1234567890.0000000000000000"
      const config = sampleConfig(ws, {
        samples: {
          b14: {
            tables: ["num_parents", "num_children"],
            roots: ["num_children"],
            where: { num_children: "id = 1" },
            maskSecretEnv: "TEST_B14_SECRET",
            masks: { "num_children.note": "text" },
          },
        },
      });
      const r = await runSample(config, source.url, { name: "b14" });
      expect(r.manifest.closure).toContainEqual(expect.objectContaining({ fk: "num_children_parent_fkey", checked: 1, resolved: 1 }));
    } finally {
      delete process.env.TEST_B14_SECRET;
    }
  });

  it("should take a partitioned table whole with its parents, and refuse a part of it where the keyset rounds must run, with the reason", async () => {
    const whole = await runSample(
      sampleConfig(ws, { samples: { b10: { tables: ["orgs", "events"], limits: { events: "all" } } } }),
      source.url,
      {
        name: "b10",
      },
    );
    expect(Object.fromEntries(whole.manifest.tables.map((t) => [t.table, t.rows]))).toEqual({ orgs: 2, events: 400 });
    // children of orgs included: rounds, which address rows by ctid alone
    const e = await refused("b11", { tables: ["orgs", "events"], limits: { orgs: 1 }, include: { orgs: ["events"] } });
    expect(e).toMatchObject({ code: "SAMPLE_UNSUPPORTED", exitCode: 6, table: "events" });
    expect((e as Error).message).toMatch(/events is partitioned, and this sample needs the keyset rounds \(orgs includes children/);
  });

  it("should refuse an unknown sample, and a sample that selects nothing", async () => {
    expect(await refused("b6", null)).toMatchObject({ code: "UNKNOWN_SAMPLE", exitCode: 2 });
    expect(await refused("b7", { tables: ["orgs"] })).toMatchObject({ code: "USAGE", exitCode: 2 });
  });
});
