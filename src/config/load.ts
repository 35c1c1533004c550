import { existsSync } from "node:fs";
import path from "node:path";
import { createJiti } from "jiti";
import { ConfigError, EtlError } from "../errors.js";
import { type Config, configSchema, type ConfigInput } from "./schema.js";

export const DEFAULT_CONFIG_PATH = "etl/etl.config.ts";

/** A validated config, with the folder its relative paths are resolved against. */
export interface LoadedConfig extends Config {
  /** Absolute folder that the config's relative paths (releasesDir, backupDir, a release's dir) are resolved from: the config file's own folder. */
  root: string;
  configPath: string | null;
}

function formatIssues(error: {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string; keys?: string[] }>;
}): string[] {
  return error.issues.map((i) => {
    const where = i.path.map(String).join(".") || "(root)";
    if (i.code === "unrecognized_keys" && i.keys) return `${where}: unknown key(s) ${i.keys.map((k) => `"${k}"`).join(", ")}`;
    return `${where}: ${i.message}`;
  });
}

/** Validates a config object; every problem is reported at once as a {@link ConfigError}. */
export function parseConfig(input: unknown, root: string, configPath: string | null = null): LoadedConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error), { file: configPath ?? undefined });
  return { ...parsed.data, root, configPath };
}

/**
 * Loads `etl.config.ts` (or .js/.mjs) without a build step, through jiti. `file` is taken
 * from `cwd`; the relative paths inside the config (releasesDir, backupDir, a release's `dir`)
 * resolve from the config file's own folder, so a run finds the same files from any folder.
 *
 * @example const config = await loadConfig("etl/etl.config.ts") // config.root === "<cwd>/etl"
 */
export async function loadConfig(file = DEFAULT_CONFIG_PATH, cwd = process.cwd()): Promise<LoadedConfig> {
  const abs = path.resolve(cwd, file);
  if (!existsSync(abs)) {
    throw new EtlError("CONFIG_NOT_FOUND", `config file not found: ${abs}`, {
      step: "config",
      next: "create etl/etl.config.ts with defineConfig(), or pass --config <file>",
    });
  }
  // Prisma's runtime must load natively: through jiti its `node:path` import loses its default
  // export, and every failed query then surfaces as "Cannot read properties of undefined (reading 'sep')".
  const jiti = createJiti(import.meta.url, { interopDefault: true, moduleCache: false, nativeModules: ["@prisma/client"] });
  let mod: unknown;
  try {
    mod = await jiti.import(abs, { default: true });
  } catch (cause) {
    throw new EtlError("CONFIG_INVALID", `config file could not be loaded: ${(cause as Error).message}`, {
      step: "config",
      file: abs,
      cause,
    });
  }
  return parseConfig(mod as ConfigInput, path.dirname(abs), abs);
}

/** Resolves an environment's settings and URL variable (src/config/environment-choice.ts). */
export { resolveEnvironment } from "./environment-choice.js";
