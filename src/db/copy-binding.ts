import type pg from "pg";
import { backendPid } from "../sql/copy.js";
import type { CopyChannel } from "./copy-channel.js";
import { type PrismaClientLike, query, type TxLike } from "./prisma-like.js";

/** The channel of each transaction opened through a client {@link bindCopy} returned. */
const channels = new WeakMap<object, CopyChannel>();
/** Each such transaction's own `pg` client, once looked up (null: not found). */
const found = new WeakMap<object, pg.PoolClient | null>();

/**
 * The client, unchanged to its users, except that each transaction it opens is known to run
 * over `channel`'s pool: {@link copyClientOf} then finds its connection.
 */
export function bindCopy(client: PrismaClientLike, channel: CopyChannel): PrismaClientLike {
  return new Proxy(client, {
    get(target, prop) {
      if (prop === "$transaction") {
        return <R>(fn: (tx: TxLike) => Promise<R>, options?: Parameters<PrismaClientLike["$transaction"]>[1]) =>
          target.$transaction((tx) => {
            channels.set(tx, channel);
            return fn(tx);
          }, options);
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * Why COPY cannot run under this client, or null when it can: its queries must reach a
 * backend that `channel`'s pool connected (the factory passed `adapter` to PrismaClient).
 */
export async function copyRefusal(client: PrismaClientLike, channel: CopyChannel): Promise<string | null> {
  const [r] = await query<{ pid: number }>(client, backendPid());
  if (r && channel.clientOf(Number(r.pid))) return null;
  return "the config's client factory did not pass the adapter it was given (client: ({ url, adapter }) => new PrismaClient({ adapter })); loading with INSERT … SELECT";
}

/**
 * The `pg` client running transaction `tx`, matched by its backend pid among the clients
 * the tool's pool handed out; null when `tx` is not over the tool's pool.
 */
export async function copyClientOf(tx: TxLike): Promise<pg.PoolClient | null> {
  const known = found.get(tx);
  if (known !== undefined) return known;
  const channel = channels.get(tx);
  let client: pg.PoolClient | null = null;
  if (channel) {
    const [r] = await query<{ pid: number }>(tx, backendPid());
    client = (r && channel.clientOf(Number(r.pid))) ?? null;
  }
  found.set(tx, client);
  return client;
}
