import { userInfo } from "node:os";
import { type ChosenBy, chooseEnvironment, environmentNames } from "./environment-choice.js";
import type { Detection } from "./environment-detect.js";
import type { EnvironmentName, EnvironmentSettings } from "./environments.js";
import type { LoadedConfig } from "./load.js";
import { EtlError } from "../errors.js";
import { redactUrl } from "../reporting/redact.js";

/** The database a command works on, and the environment's rules for it. */
export interface Target {
  /** The environment's name: a built-in or a named one of the config (`railway_staging`). */
  env: string;
  /** The built-in it is or `extends`. */
  base: EnvironmentName;
  settings: EnvironmentSettings;
  /** How the environment was chosen: `--env`, `ETL_ENV`, a `detect` rule, or the default (`local`). */
  chosenBy: ChosenBy;
  /** What the `detect` rules found, if anything (see src/config/environment-choice.ts). */
  detected: Detection | null;
  /** The connection URL (with credentials: never logged, printed or passed in argv). */
  url: string;
  /** The variable it came from, or null when the caller passed it. */
  urlVariable: string | null;
  /** The URL's host as people may see it (no credentials); "a local socket" for sockets. */
  host: string;
}

export interface TargetOptions {
  env?: string;
  force?: boolean;
  url?: string;
  /** What is refused without --force: "run" (an import), "restore" … */
  danger: string;
}

/** Hosts that are this machine: loopback names and addresses. Anything else must be listed in `localHosts`. */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/**
 * The one way a command finds its database: the environment (`--env`, then `ETL_ENV`, then
 * the config's `detect` rules, then `local`; see {@link chooseEnvironment}), its settings,
 * `--force` where the environment requires it, and the connection URL (from the
 * environment's variable unless given). Refused before anything connects:
 *
 * - an explicit environment less strict than the detected one (ENVIRONMENT_LOOSER_THAN_DETECTED);
 * - a URL that is not `postgres://` or `postgresql://`, or cannot be parsed (URL_INVALID,
 *   echoed with its password redacted);
 * - no `--env`/`ETL_ENV` while the host is neither loopback nor a Unix socket nor listed in
 *   the config's `localHosts` (ENVIRONMENT_REQUIRED): a remote database never runs with
 *   local's weaker rules by default;
 * - production without `--force` (PRODUCTION_REQUIRES_FORCE).
 *
 * @example const target = resolveTarget(config, { env: "staging", danger: "run" })
 */
export function resolveTarget(config: LoadedConfig, opts: TargetOptions, env: NodeJS.ProcessEnv = process.env): Target {
  const chosen = chooseEnvironment(config, opts.env, env);
  const { name, settings, chosenBy } = chosen;
  if (settings.requireForce && !opts.force) {
    throw new EtlError("PRODUCTION_REQUIRES_FORCE", `DANGER: ${name} refuses to ${opts.danger} without --force; nothing was touched`, {
      step: "config",
      next: `re-run with --force once you mean to replace ${name} data (or run it on an interactive terminal, which asks for the database name instead)`,
    });
  }
  const urlVariable = opts.url === undefined ? chosen.urlVariable : null;
  const url = opts.url ?? (urlVariable ? env[urlVariable] : undefined);
  if (!url) {
    throw new EtlError("DATABASE_URL_MISSING", `${urlVariable} is not set`, {
      step: "config",
      next: `export ${urlVariable}=postgresql://…`,
    });
  }
  const host = hostOf(url, urlVariable);
  if (chosenBy === "default" && !isLocalHost(host, config.localHosts)) {
    throw new EtlError(
      "ENVIRONMENT_REQUIRED",
      `the database is on ${host}, which is not this machine, and no environment was given: refusing to run with local's rules (no --force, --no-backup allowed); nothing was touched`,
      {
        step: "config",
        next: `pass --env ${environmentNames(config).join("|")} (or set ETL_ENV); if ${host} is a local database, add it to localHosts in the config`,
        meta: { host },
      },
    );
  }
  return { env: name, base: chosen.base, settings, chosenBy, detected: chosen.detected, url, urlVariable, host };
}

/** The host of a libpq URL (the `host` query parameter wins, as in libpq); sockets are "a local socket". */
export function hostOf(url: string, variable: string | null): string {
  const where = variable ? ` in ${variable}` : "";
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== "postgres" && scheme !== "postgresql") {
    throw new EtlError(
      "URL_INVALID",
      `the database URL${where} must start with postgres:// or postgresql://, got ${scheme ? `${scheme}://` : "no scheme"} (${redactUrl(url)})`,
      {
        step: "config",
        next: "give a PostgreSQL connection URL, e.g. postgresql://app@db.internal:5432/app",
      },
    );
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EtlError("URL_INVALID", `the database URL${where} cannot be parsed: ${redactUrl(url)}`, {
      step: "config",
      next: "check the URL: postgresql://user[:password]@host[:port]/database; percent-encode special characters in the password",
    });
  }
  const host = u.searchParams.get("host") ?? decodeURIComponent(u.hostname);
  if (host === "" || host.startsWith("/")) return "a local socket";
  return host.replace(/^\[(.*)\]$/, "$1");
}

/**
 * The database a libpq URL names: its `dbname` parameter, else its path, else (as libpq) the
 * user's name, else the OS user's. What a person types to confirm a run in production.
 */
export function databaseNameOf(url: string): string {
  const u = new URL(url);
  const name = u.searchParams.get("dbname") ?? decodeURIComponent(u.pathname.replace(/^\//, ""));
  return name || decodeURIComponent(u.username) || u.searchParams.get("user") || userInfo().username;
}

function isLocalHost(host: string, extra: readonly string[]): boolean {
  return host === "a local socket" || LOOPBACK.has(host.toLowerCase()) || extra.some((h) => h.toLowerCase() === host.toLowerCase());
}
