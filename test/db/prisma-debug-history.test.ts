import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { forgetPrismaDebugHistory } from "../../src/db/prisma-debug-history.js";
import { prismaClient, useTestDatabase } from "../fixtures/core/kit.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const MB = 1024 * 1024;

const db = useTestDatabase({ migrate: false, scope: "suite" });

/** Sends 25 distinct ~2 MB parameters in one transaction; returns the heap growth that survives GC. */
async function retainedBySending(forget: boolean): Promise<number> {
  const client = prismaClient({ url: db.url });
  try {
    await client.$executeRawUnsafe("SELECT 1");
    const before = heapAfterGc();
    await client.$transaction(
      async (tx) => {
        for (let i = 0; i < 25; i++) {
          await tx.$executeRawUnsafe("SELECT length($1::text)", `${i}`.padEnd(2 * MB, "x"));
          if (forget) forgetPrismaDebugHistory();
        }
      },
      { timeout: 60_000 },
    );
    return heapAfterGc() - before;
  } finally {
    await client.$disconnect();
  }
}

describe("forgetPrismaDebugHistory", () => {
  it("should keep Prisma's debug history from pinning every batch payload", async () => {
    // The control documents Prisma's behaviour (its debug history keeps the last 100 calls'
    // arguments): if it ever stops, this fails and the workaround can go.
    expect(await retainedBySending(false)).toBeGreaterThan(30 * MB);
    expect(await retainedBySending(true)).toBeLessThan(8 * MB);
  });
});
