/**
 * Keeps Prisma's debug history from pinning batch payloads in memory.
 *
 * Prisma's debug module remembers the arguments of its last 100 calls, with DEBUG unset
 * too, to attach them to crash reports. The driver adapter logs every query with its bind
 * values, and the client logs every raw query's plan, so each entry pins one whole batch
 * payload: measured here, 20,000-row batches kept ~300 MB alive after GC at 1M rows, and it
 * would plateau at 100 × the batch size. There are two copies of that history: the
 * `@prisma/debug` package the adapters use (it exports `clearLogs`) and one bundled into
 * `@prisma/client/runtime` (which does not; it is a ring of 100, so 100 tiny entries push
 * the payloads out).
 *
 * Called after every batch; costs ~0.3 ms. Under DEBUG for atomic-etl the ring is left
 * alone, so that a debugging session keeps its history (and its memory cost).
 */
import { clearLogs } from "@prisma/debug";
import { Debug } from "@prisma/client/runtime/client";

const RING = 100;
const NAMESPACE = "atomic-etl:forget";
const marker = Debug(NAMESPACE);

export function forgetPrismaDebugHistory(): void {
  clearLogs();
  if (Debug.enabled(NAMESPACE)) return;
  for (let i = 0; i < RING; i++) marker(".");
}
