import { describe, expect, it } from "vitest";
import { pgErrorInfo } from "../../src/db/pg-errors.js";
import { connect, pgTx } from "../../src/db/pg-client.js";
import { execute, query, type TxLike } from "../../src/db/prisma-like.js";
import { inSavepoint, probeInSavepoint } from "../../src/db/savepoint.js";
import { sql, useTestDatabase } from "../fixtures/core/kit.js";

/** The one savepoint helper every probe and retry of a run goes through, on a real transaction. */
const db = useTestDatabase({ migrate: false });

const run = (text: string) => ({ text, values: [] });
const isUniqueViolation = (e: unknown) => pgErrorInfo(e).sqlstate === "23505";

async function inTransaction(fn: (tx: TxLike) => Promise<void>): Promise<void> {
  const c = await connect(db.url, "atomic-etl:test");
  const tx = pgTx(c);
  try {
    await execute(tx, run("BEGIN"));
    await fn(tx);
  } finally {
    await c.query("ROLLBACK").catch(() => undefined);
    await c.end();
  }
}

const count = async (tx: TxLike) => Number((await query<{ n: string }>(tx, run("SELECT count(*) AS n FROM sp")))[0]?.n);

describe("inSavepoint", () => {
  it("should keep the work and release the savepoint when it succeeds", async () => {
    await sql(db.url, "CREATE TABLE IF NOT EXISTS sp (id int PRIMARY KEY)", "TRUNCATE sp");
    await inTransaction(async (tx) => {
      const r = await inSavepoint(tx, "probe", () => execute(tx, run("INSERT INTO sp VALUES (1)")), isUniqueViolation);
      expect(r).toEqual({ ok: true, value: 1 });
      expect(await count(tx)).toBe(1);
      // released: there is no savepoint of that name left to roll back to
      await expect(execute(tx, run("ROLLBACK TO SAVEPOINT probe"))).rejects.toThrow(/savepoint "probe" does not exist/);
    });
  });

  it("should undo the work and go on when the error is one it recovers from", async () => {
    await sql(db.url, "CREATE TABLE IF NOT EXISTS sp (id int PRIMARY KEY)", "TRUNCATE sp");
    await inTransaction(async (tx) => {
      await execute(tx, run("INSERT INTO sp VALUES (1)"));
      const r = await inSavepoint(
        tx,
        "probe",
        async () => {
          await execute(tx, run("INSERT INTO sp VALUES (2)"));
          await execute(tx, run("INSERT INTO sp VALUES (1)"));
        },
        isUniqueViolation,
      );
      expect(r.ok).toBe(false);
      expect(pgErrorInfo((r as { error: unknown }).error).sqlstate).toBe("23505");
      // the transaction is usable, holds what came before, and nothing of the failed work
      expect(await count(tx)).toBe(1);
    });
  });

  it("should throw any other error as it came, leaving the transaction aborted", async () => {
    await sql(db.url, "CREATE TABLE IF NOT EXISTS sp (id int PRIMARY KEY)", "TRUNCATE sp");
    await inTransaction(async (tx) => {
      const e = await inSavepoint(tx, "probe", () => execute(tx, run("SELECT 1 / 0")), isUniqueViolation).catch((x: unknown) => x);
      expect(pgErrorInfo(e).sqlstate).toBe("22012");
      await expect(count(tx)).rejects.toThrow(/current transaction is aborted/);
    });
  });
});

describe("probeInSavepoint", () => {
  it("should always undo the probe, returning its error or null", async () => {
    await sql(db.url, "CREATE TABLE IF NOT EXISTS sp (id int PRIMARY KEY)", "TRUNCATE sp");
    await inTransaction(async (tx) => {
      expect(await probeInSavepoint(tx, "probe", () => execute(tx, run("INSERT INTO sp VALUES (1)")))).toBeNull();
      expect(await count(tx)).toBe(0);
      const e = await probeInSavepoint(tx, "probe", () => execute(tx, run("INSERT INTO sp VALUES (1), (1)")));
      expect(pgErrorInfo(e).sqlstate).toBe("23505");
      expect(await count(tx)).toBe(0);
    });
  });
});
