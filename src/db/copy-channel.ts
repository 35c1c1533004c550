import { createRequire } from "node:module";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { readOnlyByDefault } from "../sql/session.js";

/**
 * The `pg` that @prisma/adapter-pg itself loads. PrismaPg takes a pool only when it is an
 * `instanceof` its own `pg.Pool`; a pool from another copy of `pg` (a project whose adapter
 * is installed or linked apart from atomic-etl) is read as a bare config and silently
 * connects to localhost:5432.
 */
function adapterPg(): typeof pg {
  try {
    return createRequire(import.meta.resolve("@prisma/adapter-pg"))("pg") as typeof pg;
  } catch {
    return pg;
  }
}

/** A `pg` client as node-postgres keeps it at run time: its backend pid is not in the typings. */
type Pooled = pg.PoolClient & { processID?: number | null };

/**
 * The tool's own `pg.Pool` under the config's Prisma client: the factory is handed
 * `adapter` (a `PrismaPg` over this pool) and builds `new PrismaClient({ adapter })`. Every
 * client the pool hands out is remembered by its backend pid, so that a Prisma transaction
 * can find its own connection (see {@link copyClientOf}) and run `COPY … FROM STDIN` on it.
 */
export class CopyChannel {
  readonly pool: pg.Pool;
  readonly adapter: PrismaPg;
  private readonly byPid = new Map<number, Pooled>();

  constructor(url: string) {
    // every session opens read-only by default, a startup option (see readOnlyByDefault)
    this.pool = new (adapterPg().Pool)({ connectionString: readOnlyByDefault(url) });
    // an idle connection that dies is dropped by the pool; the run sees the loss on its next query
    this.pool.on("error", () => undefined);
    this.pool.on("acquire", (c: Pooled) => {
      if (typeof c.processID === "number") this.byPid.set(c.processID, c);
    });
    this.pool.on("remove", (c: Pooled) => {
      if (typeof c.processID === "number" && this.byPid.get(c.processID) === c) this.byPid.delete(c.processID);
    });
    this.adapter = new PrismaPg(this.pool);
  }

  /** The pooled client connected to backend `pid`, if this pool made it. */
  clientOf(pid: number): pg.PoolClient | undefined {
    return this.byPid.get(pid);
  }

  async end(): Promise<void> {
    this.byPid.clear();
    await this.pool.end().catch(() => undefined);
  }
}
