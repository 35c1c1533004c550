import { beforeAll, describe, expect, it } from "vitest";
import { useTestProject } from "../fixtures/core/kit.js";
import { freshDatabase, runSql } from "../support/postgres.js";
import { GRAPH_DATA, GRAPH_DDL } from "./graph-schema.js";
import { importRelease, orphanCount, runSample, sampleConfig } from "./support.js";

const { db: source, ws } = useTestProject({ migrate: false, scope: "suite" });
beforeAll(() => runSql(source.url, ...GRAPH_DDL, ...GRAPH_DATA));

let next = 1000;
/** One writer transaction: new parents with children, deletes of sampled rows (roots included), re-parenting. */
async function writeSome(url: string): Promise<void> {
  const e = next++;
  await runSql(
    url,
    "BEGIN",
    `INSERT INTO employees (id, org_code, org_id, region_code, manager_id, email, full_name) VALUES (${e}, 'ORG1', 1, 'R1', 1, 'w${e}@corp.test', 'Writer ${e}')`,
    `INSERT INTO transfers VALUES (${e}, ${e}, 1, ${e}, 'w${e}@corp.test'), (${e + 100000}, 2, ${e}, NULL, NULL)`,
    `INSERT INTO audit VALUES (${e}, 1, 'writer ${e}')`,
    `DELETE FROM transfers WHERE id IN (SELECT id FROM transfers WHERE id < 1000 ORDER BY id LIMIT 3)`,
    `DELETE FROM audit WHERE ctid IN (SELECT ctid FROM audit WHERE note NOT LIKE 'writer%' LIMIT 5)`,
    `UPDATE employees SET mentor_id = ${e} WHERE id = ${(e % 50) + 5}`,
    "COMMIT",
  );
}

const hashes = (r: Awaited<ReturnType<typeof runSample>>) => Object.fromEntries(r.manifest.tables.map((t) => [t.table, t.sha256]));

describe("writers committing while a sample runs", () => {
  it("should write exactly the snapshot's rows when parents, children and deletes commit after it was taken", async () => {
    const config = sampleConfig(ws, {
      samples: { quiet: { limits: { transfers: 8, audit: 12 } }, busy: { limits: { transfers: 8, audit: 12 } } },
    });
    const all = sampleConfig(ws, { samples: { quietAll: { limits: { "*": "all" } }, busyAll: { limits: { "*": "all" } } } });
    const quiet = await runSample(config, source.url, { name: "quiet" });
    // the busy runs hold right after their snapshot while writers commit; the exported
    // snapshot's workers connect only after that
    const busy = await runSample(config, source.url, {
      name: "busy",
      hooks: { afterSnapshot: () => Promise.all([writeSome(source.url), writeSome(source.url)]).then(() => undefined) },
    });
    const quietAll = await runSample(all, source.url, { name: "quietAll" });
    const busyAll = await runSample(all, source.url, {
      name: "busyAll",
      jobs: 3,
      hooks: { afterSnapshot: () => writeSome(source.url) },
    });
    expect(hashes(busy)).toEqual(hashes(quiet));
    expect(busyAll.manifest.plan.workers).toBe(3);
    expect(hashes(busyAll)).toEqual(hashes(quietAll));
  });

  it("should stay closed and importable while writers run through the whole sample", async () => {
    let stop = false;
    const writers = (async () => {
      for (let i = 0; i < 200 && !stop; i++) await writeSome(source.url);
    })();
    try {
      const config = sampleConfig(ws, {
        samples: { live: { limits: { transfers: "40%", audit: 30 }, include: { employees: { transfers_from_emp_fkey: 3 } } } },
      });
      for (let round = 0; round < 3; round++) {
        const r = await runSample(config, source.url, { name: "live", force: round > 0 });
        expect(r.manifest.closure.every((c) => c.checked === c.resolved)).toBe(true);
        const target = await freshDatabase({ migrate: false });
        try {
          await runSql(target.url, ...GRAPH_DDL);
          await importRelease(sampleConfig(ws), target.url, "live");
          expect(await orphanCount(target.url)).toBe(0);
        } finally {
          await target.drop();
        }
      }
    } finally {
      stop = true;
      await writers;
    }
  });
});
