import { EtlError } from "../errors.js";
import { detectEnvironment, type Detection } from "./environment-detect.js";
import {
  ENVIRONMENT_DEFAULTS,
  ENVIRONMENT_NAMES,
  ENVIRONMENT_RANK,
  type EnvironmentEntry,
  type EnvironmentName,
  type EnvironmentSettings,
} from "./environments.js";
import type { Config } from "./schema.js";

/** An environment with everything it inherits resolved. */
export interface ResolvedEnvironment {
  name: string;
  /** The built-in environment it is (or `extends`). */
  base: EnvironmentName;
  settings: EnvironmentSettings;
  /** The variable its connection URL is read from. */
  urlVariable: string;
}

/** How the environment of a run was chosen; `detected` carries the rule's variable and value. */
export type ChosenBy = "flag" | "ETL_ENV" | "detected" | "default";

export interface ChosenEnvironment extends ResolvedEnvironment {
  chosenBy: ChosenBy;
  /** What detection found (also when an explicit, equally strict or stricter choice won). */
  detected: Detection | null;
}

const isBuiltIn = (name: string): name is EnvironmentName => (ENVIRONMENT_NAMES as readonly string[]).includes(name);

/** Every environment the config knows: the built-ins, then its named ones. */
export function environmentNames(config: Pick<Config, "environments">): string[] {
  return [...ENVIRONMENT_NAMES, ...Object.keys(config.environments).filter((n) => !isBuiltIn(n))];
}

function settingsOf(entry: EnvironmentEntry | undefined): Partial<EnvironmentSettings> {
  if (!entry) return {};
  const { extends: _base, databaseUrlEnv: _url, ...settings } = entry;
  return settings;
}

/**
 * Resolves an environment's settings: the base's defaults, the config's overrides of the base,
 * then (for a named environment) its own; and the variable of its URL (its own
 * `databaseUrlEnv`, then the top-level map's entry for its name, then `DATABASE_URL`; never
 * the base's: a named environment is another database).
 *
 * @example resolveEnvironment(config, "eu-production").settings.requireForce // true
 */
export function resolveEnvironment(
  config: Pick<Config, "environments" | "databaseUrlEnv">,
  name: string,
  /** The flag the name came from, for the hint: `--env` (a run's target, or ETL_ENV) or `--from` (a source). */
  flag: "--env" | "--from" = "--env",
): ResolvedEnvironment {
  const entry = config.environments[name];
  const base = isBuiltIn(name) ? name : entry?.extends;
  if (!base) {
    const known = environmentNames(config);
    const pass =
      flag === "--env" ? `pass --env ${known.join("|")} (or set ETL_ENV)` : `pass --from ${known.join("|")} (or --from-url-env <VAR>)`;
    throw new EtlError("UNKNOWN_ENVIRONMENT", `unknown environment "${name}"; expected one of ${known.join(", ")}`, {
      step: "config",
      next: `${pass}, or add "${name}" with extends to environments in the config`,
    });
  }
  const inherited = isBuiltIn(name) ? {} : settingsOf(config.environments[base]);
  return {
    name,
    base,
    settings: { ...ENVIRONMENT_DEFAULTS[base], ...inherited, ...settingsOf(entry) },
    urlVariable: entry?.databaseUrlEnv ?? config.databaseUrlEnv[name] ?? "DATABASE_URL",
  };
}

/**
 * The environment of a run that writes: `--env`, then `ETL_ENV`, then what the config's
 * `detect` rules find in the platform's variables, then `local`. Detection only makes a run
 * stricter: an explicit choice whose base is less strict than the detected one's is refused
 * (ENVIRONMENT_LOOSER_THAN_DETECTED). There is no flag to lift that: the way out is to run
 * where the variable is not set (`env -u VAR atomic-etl …`) or to change the config's rules.
 *
 * @example chooseEnvironment(config, undefined, { RAILWAY_ENVIRONMENT_NAME: "production" }).chosenBy // "detected"
 */
export function chooseEnvironment(
  config: Pick<Config, "environments" | "databaseUrlEnv" | "detect">,
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ChosenEnvironment {
  const explicit = flag ?? env.ETL_ENV;
  const chosenBy: ChosenBy = flag !== undefined ? "flag" : env.ETL_ENV !== undefined ? "ETL_ENV" : "default";
  const resolved = explicit === undefined ? undefined : resolveEnvironment(config, explicit);
  const detected = detectEnvironment(config.detect, env, (n) => ENVIRONMENT_RANK[resolveEnvironment(config, n).base]);
  if (!detected) return { ...(resolved ?? resolveEnvironment(config, "local")), chosenBy, detected };
  const found = resolveEnvironment(config, detected.env);
  if (!resolved) return { ...found, chosenBy: "detected", detected };
  if (ENVIRONMENT_RANK[resolved.base] < ENVIRONMENT_RANK[found.base]) {
    const how = chosenBy === "flag" ? `--env ${explicit}` : `ETL_ENV=${explicit}`;
    throw new EtlError(
      "ENVIRONMENT_LOOSER_THAN_DETECTED",
      `${how} (${resolved.base}'s rules) is less strict than ${found.name} (${found.base}), which ${said(detected)} says this is: refusing to run with weaker rules than detected; nothing was touched`,
      {
        step: "config",
        next: `run with --env ${found.name} (and --force where it asks); if this really is ${resolved.name}, run where ${detected.variable} is not set (env -u ${detected.variable} atomic-etl …) or change the detect rules in the config`,
        meta: { chosen: resolved.name, detected: found.name, variable: detected.variable },
      },
    );
  }
  return { ...resolved, chosenBy, detected };
}

/** How the environment was chosen, for reports: `--env`, `ETL_ENV`, `detected: VAR=value`, `default`. */
export function describeChoice(c: Pick<ChosenEnvironment, "chosenBy" | "detected">): string {
  if (c.chosenBy === "flag") return "--env";
  if (c.chosenBy === "detected" && c.detected) return `detected: ${said(c.detected)}`;
  return c.chosenBy;
}

function said(d: Detection): string {
  return d.value === null ? `${d.variable} (set)` : `${d.variable}=${d.value}`;
}
