import { releaseSavepoint, rollbackToSavepoint, savepoint } from "../sql/locks.js";
import { execute, type TxLike } from "./prisma-like.js";

/** What {@link inSavepoint} gives back: the work's value, or the error it recovered from. */
export type SavepointOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs `work` inside SAVEPOINT `name`. When it succeeds the savepoint is released. When it
 * throws an error `recovers` accepts, the transaction is rolled back to the savepoint (undoing
 * the work and the locks it took) and goes on as before, and the error is returned; any other
 * error is thrown as it came, the savepoint left to the rollback of the whole transaction (a
 * lost connection or a closed transaction could not roll back to it anyway).
 *
 * @example const r = await inSavepoint(tx, "atomic_etl_probe", () => execute(tx, s), (e) => pgErrorInfo(e).sqlstate === "23505");
 */
export async function inSavepoint<T>(
  tx: TxLike,
  name: string,
  work: () => Promise<T>,
  recovers: (e: unknown) => boolean,
): Promise<SavepointOutcome<T>> {
  await execute(tx, savepoint(name));
  let value: T;
  try {
    value = await work();
  } catch (e) {
    if (!recovers(e)) throw e;
    await execute(tx, rollbackToSavepoint(name));
    await execute(tx, releaseSavepoint(name));
    return { ok: false, error: e };
  }
  await execute(tx, releaseSavepoint(name));
  return { ok: true, value };
}

/**
 * Runs `work` inside SAVEPOINT `name` and always rolls back to it: a probe that leaves the
 * transaction exactly as it was. Returns the error `work` threw, or null.
 */
export async function probeInSavepoint(tx: TxLike, name: string, work: () => Promise<unknown>): Promise<unknown> {
  await execute(tx, savepoint(name));
  try {
    await work();
    return null;
  } catch (e) {
    return e;
  } finally {
    await execute(tx, rollbackToSavepoint(name));
    await execute(tx, releaseSavepoint(name));
  }
}
