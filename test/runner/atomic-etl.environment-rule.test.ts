/**
 * The environment rule against a real server: with no --env and no ETL_ENV, a database whose
 * host is not this machine is refused before anything connects, and the config's `localHosts`
 * is what lets such a host run as local. 127.0.0.2 stands in for a remote host: the test
 * forwards it to the cluster on 127.0.0.1.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { type CutProxy, startCutProxy } from "../faults/support/cut-proxy.js";
import { failure, nextRelease, STANDARD_TABLES, stateOf, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

/** 127.0.0.2 forwarded to the cluster (the fault suite's proxy, never arming a cut). */
let proxy: CutProxy;
beforeEach(async () => {
  proxy = await startCutProxy(db.url, "127.0.0.2");
});
afterEach(() => proxy.close());

describe("AtomicEtl.import: a database that is not on this machine needs an environment", () => {
  it("should refuse 127.0.0.2 with no environment given, naming the host and never the password, touching nothing", async () => {
    await ws.writeRelease("r", nextRelease());
    const before = await stateOf(db.url);
    const url = proxy.url;
    const f = await failure(new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({ release: "r", url }));
    expect(f.error.code).toBe("ENVIRONMENT_REQUIRED");
    expect(f.error.exitCode).toBe(2);
    expect(f.error.message).toContain("the database is on 127.0.0.2, which is not this machine");
    expect(f.error.next).toContain("pass --env");
    expect(f.error.next).toContain("localHosts");
    const password = new URL(url).password;
    if (password) expect(JSON.stringify(f.error)).not.toContain(password);
    expect(await stateOf(db.url)).toEqual(before);
    expect(proxy.accepted).toBe(0); // refused before connecting
  });

  it("should run 127.0.0.2 as local when the config lists it in localHosts, and with an environment given", async () => {
    await ws.writeRelease("r", nextRelease());
    const listed = await new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } }, { localHosts: ["127.0.0.2"] })).import({
      release: "r",
      url: proxy.url,
      backup: false,
    });
    expect(listed).toMatchObject({ outcome: "committed", environment: "local" });
    const given = await new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({
      release: "r",
      url: proxy.url,
      env: "staging",
      backup: false,
      redeploy: true,
    });
    expect(given).toMatchObject({ outcome: "committed", environment: "staging", environmentChosenBy: expect.stringContaining("env") });
  });
});
