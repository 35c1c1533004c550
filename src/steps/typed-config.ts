import type { ConfigInput } from "../config/schema.js";
import type { StepFn } from "./types.js";

/**
 * What Prisma hands an interactive transaction's callback: the client without its
 * connection and extension methods (Prisma's own `ITXClientDenyList`).
 */
export type TransactionClientOf<C> = Omit<C, "$connect" | "$disconnect" | "$on" | "$use" | "$extends">;

type ReleaseInput = ConfigInput["releases"][string];
type StepInput = NonNullable<ReleaseInput["steps"]>[number];

/** A release step whose `tx` is typed as `Tx`. */
export type TypedStep<Tx> = Omit<StepInput, "run"> & { run: StepFn<Tx> };

export type TypedRelease<Tx> = Omit<ReleaseInput, "steps"> & { steps?: TypedStep<Tx>[] };

/**
 * A config whose steps see the client's own transaction type: `C` is read from what
 * `client` returns (the generated `PrismaClient`), so `tx.player.upsert(…)` type-checks in
 * every step, with no annotation in the user's code.
 */
export type TypedConfig<C> = Omit<ConfigInput, "client" | "releases"> & {
  client: (opts: { url: string }) => C | Promise<C>;
  releases: Record<string, TypedRelease<TransactionClientOf<C>>>;
};
