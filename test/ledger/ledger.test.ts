import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { restoreById } from "../../src/commands/restore.js";
import { history } from "../../src/commands/history.js";
import { parseConfig } from "../../src/config/load.js";
import { connect, pgTx } from "../../src/db/pg-client.js";
import type { ConfigError } from "../../src/errors.js";
import { ensureLedger, LEDGER_MIGRATIONS } from "../../src/ledger/ledger-schema.js";
import { toolVersion } from "../../src/ledger/provenance.js";
import { fingerprints, failure, nextRelease, prismaClient, sql, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";
import { ledgerRows } from "./support.js";

const { db, ws } = useTestProject({ release: true });
const etl = () => new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } }));

beforeEach(() => {
  process.env.ATOMIC_ETL_GIT_COMMIT = "0123456789abcdef0123456789abcdef01234567";
});
afterEach(() => {
  delete process.env.ATOMIC_ETL_GIT_COMMIT;
});

const sha = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

describe("ledger: committed runs", () => {
  it("should write a committed import's row with its columns, and fingerprints equal to the tables it committed", async () => {
    const report = await etl().import({ release: "r", url: db.url, backup: false });
    const rows = await ledgerRows(db.url);
    expect(rows).toHaveLength(1);
    const r = rows[0]!;
    expect(r).toMatchObject({
      run_id: report.runId,
      kind: "import",
      release: "r",
      environment: "local",
      target_schema: "public",
      outcome: "committed",
      strategy: "direct",
      content_hash: report.contentHash,
      backup_id: null,
      txid: report.txid,
      error_code: null,
      tool_version: toolVersion(),
      git_commit: "0123456789abcdef0123456789abcdef01234567",
      os_user: os.userInfo().username,
      host: os.hostname(),
      plan_hash: report.planHash,
    });
    expect(r.finished_at.getTime()).toBeGreaterThanOrEqual(r.started_at.getTime());
    const now = await fingerprints(db.url);
    const players = r.tables.find((t) => t.table === "players");
    expect(players).toMatchObject({
      strategy: "direct",
      file: "releases/r/players.json",
      sha256: await sha(path.join(ws.releaseDir("r"), "players.json")),
      rowsBefore: 2,
      records: 6,
      inserted: 6,
      deleted: 2,
      fingerprintAfter: now.players,
    });
    for (const t of r.tables) expect(t.fingerprintAfter, t.table).toEqual(now[t.table]);
    expect(r.database).toMatchObject({ database: db.name });
  });

  it("should record the backup id of a run with a backup, and keep the ledger out of the backup", async () => {
    const report = await etl().import({ release: "r", url: db.url });
    const [r] = await ledgerRows(db.url);
    expect(r?.backup_id).toBe(report.backup?.id);
    const manifest = JSON.parse(await readFile(report.backup!.path.replace(/\.dump$/, ".manifest.json"), "utf8")) as { tables: object };
    expect(Object.keys(manifest.tables).sort()).toEqual(["leagues", "matches", "player_match_stats", "players", "teams"]);
  });

  it("should refuse a config whose ledger schema is the targets' schema: the ledger is never a target", () => {
    let e: ConfigError | null = null;
    try {
      parseConfig({ client: prismaClient, ledgerSchema: "public", releases: { r: { tables: STANDARD_TABLES } } }, ws.root);
    } catch (x) {
      e = x as ConfigError;
    }
    expect(e?.code).toBe("CONFIG_INVALID");
    expect(e?.issues.join("\n")).toContain("ledgerSchema");
  });

  it("should keep the ledger in the configured schema", async () => {
    const config = ws.config({ r: { tables: STANDARD_TABLES } }, { ledgerSchema: "deploys" });
    await new AtomicEtl(config).import({ release: "r", url: db.url, backup: false });
    expect(await ledgerRows(db.url, "deploys")).toHaveLength(1);
    expect(await ledgerRows(db.url)).toHaveLength(0);
  });
});

describe("ledger: runs that do not commit", () => {
  it("should roll the ledger row back with the data when the gate refuses after writing it, and record the failure after", async () => {
    const f = await failure(
      etl().import({
        release: "r",
        url: db.url,
        backup: false,
        hooks: {
          beforeCommit: async () => {
            await sql(db.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'atomic-etl:lock:%'");
          },
        },
      }),
    );
    expect(f.error.code).toBe("LOCK_LOST");
    const rows = await ledgerRows(db.url);
    expect(rows.map((r) => [r.run_id, r.outcome, r.error_code])).toEqual([[f.report.runId, "rolled back", "LOCK_LOST"]]);
    expect(rows[0]?.txid).toBe(f.report.txid);
  });

  it("should record a failed check as rolled back, and never let it block the next run", async () => {
    const bad = new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES, checks: [{ name: "never", sql: "SELECT 1" }] } }));
    const f = await failure(bad.import({ release: "r", url: db.url, backup: false }));
    expect(f.error.code).toBe("CHECK_FAILED");
    const good = await etl().import({ release: "r", url: db.url, backup: false });
    expect(good.outcome).toBe("committed");
    const rows = await ledgerRows(db.url);
    expect(rows.map((r) => [r.outcome, r.error_code])).toEqual([
      ["rolled back", "CHECK_FAILED"],
      ["committed", null],
    ]);
    expect(rows[0]?.tables.find((t) => t.table === "players")).toMatchObject({ records: 6, fingerprintAfter: null });
  });

  it("should warn, and still report the run's own error, when its failure cannot be recorded", async () => {
    await etl().import({ release: "r", url: db.url, backup: false });
    await sql(db.url, "ALTER TABLE atomic_etl.runs ADD CONSTRAINT only_commits CHECK (outcome = 'committed')");
    await ws.writeRelease("r", { ...nextRelease(), "teams.json": "[{]" });
    const f = await failure(etl().import({ release: "r", url: db.url, backup: false }));
    expect(f.error.code).toBe("INPUT_MALFORMED");
    expect(f.report.warnings.map((w) => w.code)).toEqual(["LEDGER_NOT_RECORDED"]);
    expect((await ledgerRows(db.url)).map((r) => r.outcome)).toEqual(["committed"]);
  });

  it("should not record a run refused before it held the run lock", async () => {
    const missing = new AtomicEtl(ws.config({ r: { tables: [{ model: "League", file: "nope.json" }] } }));
    const f = await failure(missing.import({ release: "r", url: db.url, backup: false }));
    expect(f.error.code).toBe("INPUT_MISSING");
    expect(await ledgerRows(db.url)).toEqual([]);
  });
});

describe("ledger: schema versions", () => {
  it("should upgrade a ledger an older tool created, in place, keeping its rows", async () => {
    const c = await connect(db.url);
    try {
      await ensureLedger(pgTx(c), "atomic_etl", "0.0.1", LEDGER_MIGRATIONS.slice(0, 1));
    } finally {
      await c.end();
    }
    await sql(
      db.url,
      `INSERT INTO atomic_etl.runs (run_id, kind, release, environment, target_schema, outcome, started_at, tool_version)
       VALUES ('00000000-0000-4000-8000-000000000001', 'import', 'r', 'local', 'public', 'committed', now() - interval '1 day', '0.0.1')`,
    );
    const cols = async () =>
      (
        await sql<{ c: string }>(
          db.url,
          "SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'atomic_etl' AND table_name = 'runs'",
        )
      ).map((r) => r.c);
    expect(await cols()).not.toContain("plan_hash");
    const report = await etl().import({ release: "r", url: db.url, backup: false });
    expect(await cols()).toEqual(expect.arrayContaining(["plan_hash", "config_hash", "database", "drift"]));
    const versions = await sql<{ version: number; tool_version: string }>(
      db.url,
      "SELECT version, tool_version FROM atomic_etl.ledger_version ORDER BY 1",
    );
    expect(versions).toEqual([
      { version: 1, tool_version: "0.0.1" },
      { version: 2, tool_version: toolVersion() },
    ]);
    const h = await history(ws.config({ r: { tables: STANDARD_TABLES } }), { url: db.url });
    expect(h.rows.map((r) => [r.runId, r.planHash])).toEqual([
      [report.runId, report.planHash],
      ["00000000-0000-4000-8000-000000000001", null],
    ]);
  });

  it("should apply each version once when two sessions create the ledger at the same time", async () => {
    const [a, b] = await Promise.all([connect(db.url), connect(db.url)]);
    try {
      const states = await Promise.all([ensureLedger(pgTx(a), "atomic_etl", "1"), ensureLedger(pgTx(b), "atomic_etl", "1")]);
      expect(states.map((s) => s.version)).toEqual([2, 2]);
      expect(states.flatMap((s) => s.applied).sort()).toEqual([1, 2]);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it("should stop with LEDGER_UNAVAILABLE, nothing touched, when the role may not create the ledger", async () => {
    await sql(db.url, "DROP ROLE IF EXISTS ledger_less", "CREATE ROLE ledger_less LOGIN PASSWORD 'pw'");
    const u = new URL(db.url);
    u.username = "ledger_less";
    u.password = "pw";
    const c = await connect(u.toString());
    try {
      const e = await ensureLedger(pgTx(c), "atomic_etl", "1").then(
        () => null,
        (x: unknown) => x as { code: string; next: string },
      );
      expect(e?.code).toBe("LEDGER_UNAVAILABLE");
      expect(e?.next).toContain("CREATE SCHEMA atomic_etl AUTHORIZATION");
    } finally {
      await c.end();
      await sql(db.url, "DROP ROLE ledger_less");
    }
  });
});

describe("ledger: restores", () => {
  it("should record a restore with its backup id and the fingerprints it proved", async () => {
    const report = await etl().import({ release: "r", url: db.url });
    const config = ws.config({ r: { tables: STANDARD_TABLES } });
    const restored = await restoreById(config, { id: report.backup!.id, url: db.url });
    const rows = await ledgerRows(db.url);
    expect(rows.map((r) => [r.kind, r.outcome, r.backup_id])).toEqual([
      ["import", "committed", report.backup!.id],
      ["restore", "committed", restored.id],
    ]);
    const now = await fingerprints(db.url);
    for (const t of rows[1]!.tables) expect(t.fingerprintAfter, t.table).toEqual(now[t.table]);
  });
});
