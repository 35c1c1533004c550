import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { restoreById } from "../../src/commands/restore.js";
import { createLogger } from "../../src/reporting/logger.js";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { nextRelease, rejection, STANDARD_TABLES, useTestProject } from "../fixtures/core/kit.js";
import { corruptMiddle, envGuard, recordingTools } from "./support.js";

const { db, ws } = useTestProject({ seed: false });
let restoreEnv: () => void;

beforeEach(async () => {
  restoreEnv = envGuard("PG_BIN_DIR");
});

afterEach(async () => {
  restoreEnv();
});

describe("credentials", () => {
  it("should never put the password in the argv of pg_dump, pg_restore or psql, nor in logs, manifests or reports", async () => {
    const password = decodeURIComponent(new URL(db.url).password);
    expect(password.length).toBeGreaterThan(8);
    const tools = await recordingTools(path.join(ws.root, "bin"));
    process.env.PG_BIN_DIR = tools.dir;
    let logs = "";
    const logger = createLogger({
      pretty: false,
      level: "debug",
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          logs += chunk.toString();
          done();
        },
      }),
    });
    await ws.writeRelease("A", nextRelease());
    const etl = new AtomicEtl(ws.config({ A: { tables: STANDARD_TABLES } }), { logger });

    const reports = [await etl.import({ release: "A", url: db.url }), await etl.import({ release: "A", url: db.url, redeploy: true })];
    const restored = await restoreById(etl.config, { id: reports[1]!.backup!.id, url: db.url, log: logger });
    await corruptMiddle(reports[0]!.backup!.path);
    const failed = await rejection(restoreById(etl.config, { id: reports[0]!.backup!.id, url: db.url, log: logger }));

    const calls = await tools.calls();
    const used = new Set(calls.filter((c) => c.argv !== "--version").map((c) => c.tool));
    expect([...used].sort()).toEqual(["pg_dump", "pg_restore", "psql"]);
    for (const c of calls) {
      expect(c.argv).not.toContain(password);
      expect(c.argv).not.toMatch(/postgres(ql)?:\/\//);
    }
    // the connecting tools got it through the environment
    for (const c of calls.filter((x) => (x.tool === "pg_dump" || x.tool === "psql") && x.argv !== "--version"))
      expect(c.envNames).toContain("PGPASSWORD");

    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(password);
    for (const f of (await readdir(ws.backupDir)).filter((x) => x.endsWith(".manifest.json"))) {
      expect(await readFile(path.join(ws.backupDir, f), "utf8")).not.toContain(password);
    }
    expect(JSON.stringify(reports)).not.toContain(password);
    expect(JSON.stringify(restored)).not.toContain(password);
    expect(failed.describe()).not.toContain(password);
    expect(JSON.stringify(failed.toJSON())).not.toContain(password);
  });
});
