/**
 * Every hostile input fails with its pinned code, message, file, record, field and exit code,
 * and leaves every table exactly as it was (library runs; hostile-cli.test.ts runs a subset
 * through the CLI). Corpus: test/hostile/corpus/cases.json + files/, plus inputs too big to
 * keep (generated-cases.ts) and hostile file-system entries (filesystem-cases.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode } from "../../src/errors.js";
import { useTestDatabase } from "../fixtures/core/kit.js";
import { stateDiff } from "../faults/support/db-state.js";
import { sql } from "../faults/support/fault-cluster.js";
import { FILESYSTEM_CASES } from "./support/filesystem-cases.js";
import { GENERATED_CASES } from "./support/generated-cases.js";
import { type HostileCase, type HostileKit, loadCases, observed, openHostileKit } from "./support/hostile-kit.js";

const corpus = await loadCases();
/** The kit's database for the file (the kit drops it on close; the fixture's drop is then a no-op). */
const database = useTestDatabase({ seed: false, scope: "suite" });
let kit: HostileKit;

beforeAll(async () => {
  kit = await openHostileKit(database);
}, 120_000);
afterAll(() => kit?.close());

async function expectRefused(c: HostileCase, write?: (file: string) => Promise<void>) {
  const r = await kit.release(c, write);
  const e = await kit.runLibrary(r);
  expect(e, `${c.id} committed`).not.toBeNull();
  if (!e) return;
  expect(observed(e, r.hostileFile, c.expect)).toEqual(c.expect);
  expect(ERROR_CODES[c.expect.code as ErrorCode], "the pinned exit code is the documented one").toBe(c.expect.exit);
  expect(["untouched", "rolled back; database unchanged"]).toContain(e.error.data);
  expect(stateDiff(await kit.state(), kit.base)).toEqual([]);
}

describe("hostile input", () => {
  it("should hold at least 30 cases", () => {
    // + the unreadable file, run through the CLI (hostile-cli.test.ts)
    expect(corpus.length + GENERATED_CASES.length + FILESYSTEM_CASES.length + 1).toBeGreaterThanOrEqual(30);
    expect(new Set(corpus.map((c) => c.id)).size).toBe(corpus.length);
  });

  it.each(corpus.map((c) => [c.id, c] as const))("should refuse %s, naming where, and change nothing", async (_id, c) => {
    await expectRefused(c);
  });

  it.each(GENERATED_CASES.map((c) => [c.id, c] as const))(
    "should refuse %s (generated), naming where, and change nothing",
    async (_id, c) => {
      await expectRefused(c, c.write);
    },
    120_000,
  );

  it.each(FILESYSTEM_CASES.map((c) => [c.id, c] as const))("should refuse %s before touching anything", async (_id, c) => {
    await expectRefused(c, c.write);
  });

  it("should store an SQL injection attempt in a value verbatim, as data", async () => {
    const r = await kit.release({
      id: "injection-value",
      about: "",
      target: "leagues",
      file: "injection-value.json",
      expect: FILESYSTEM_CASES[0]!.expect,
    });
    expect(await kit.runLibrary(r)).toBeNull();
    const rows = await sql<{ name: string; country: string }>(kit.url, "SELECT name, country FROM leagues WHERE id = 2");
    expect(rows).toEqual([{ name: "'); DROP TABLE teams; --", country: "Robert'); DROP TABLE leagues;--" }]);
    const teams = await sql<{ n: number }>(kit.url, "SELECT count(*)::int AS n FROM teams");
    expect(teams[0]?.n).toBe(kit.base.fingerprints.teams?.rows);
  });
});
