import type { PrismaClientLike } from "../db/prisma-like.js";
import type { TypedConfig } from "../steps/typed-config.js";

/**
 * Types an `etl.config.ts`: the client's type (what `client` returns) flows into every
 * step's `tx`. Validation happens when the config is loaded, so that every problem is
 * reported at once.
 *
 * @example
 * export default defineConfig({
 *   client: ({ url }) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }),
 *   releases: { "league-2026": { tables: [{ model: "League", file: "leagues.json" }] } },
 * });
 */
export function defineConfig<C extends PrismaClientLike>(config: TypedConfig<C>): TypedConfig<C> {
  return config;
}
