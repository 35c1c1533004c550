import type { ConfigInput } from "./schema.js";

/**
 * Types an `etl.config.ts`. Validation happens when the config is loaded, so that every
 * problem is reported at once.
 *
 * @example
 * export default defineConfig({
 *   client: ({ adapter }) => new PrismaClient({ adapter }),
 *   releases: { "league-2026": { tables: [{ model: "League", file: "leagues.json" }] } },
 * });
 */
export function defineConfig(config: ConfigInput): ConfigInput {
  return config;
}
