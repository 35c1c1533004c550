import path from "node:path";
import type { Logger } from "pino";
import { pickEnvironmentName } from "../config/environments.js";
import { type LoadedConfig, resolveEnvironment } from "../config/load.js";
import { hostOf } from "../config/target.js";
import type { RuntimeDataModel } from "../db/prisma-like.js";
import { ToolClient } from "../db/tool-client.js";
import { EtlError } from "../errors.js";
import { assertOutputFree } from "../release/output-dir.js";
import { silentLogger } from "../reporting/logger.js";
import { type MakeReleaseOptions, makeRelease, type ReleaseReport } from "./make-release.js";
import type { SamplePlan, SourceTable } from "./plan-types.js";
import type { SampleHooks } from "./write-all.js";

/** Options shared by `export` and `sample`. */
export interface SourceOptions {
  /** Environment to read from (`--from`); its URL variable is the config's `databaseUrlEnv`, as for import. */
  from?: string;
  /** Read the URL from this variable instead (`--from-url-env VAR`); never a URL in argv. */
  fromUrlEnv?: string;
  /** Release directory; default: the release's own folder under `releasesDir`. */
  out?: string;
  /** Replace an existing output directory (swapped only once the new one is complete). */
  force?: boolean;
  /** Connections sharing the snapshot (default 2). */
  jobs?: number;
  /** Rows per keyset batch and per read (default 5000). */
  batchSize?: number;
  logger?: Logger;
  hooks?: SampleHooks;
  /** Connection URL for library use (overrides the variables). */
  url?: string;
}

/** Where the source is: its environment (null when only `--from-url-env` named it), its URL and the variable it came from. */
export interface SourceUrl {
  environment: string | null;
  url: string;
  /** The variable the URL was read from (a name, never its value); null for a URL given in library use. */
  urlVariable: string | null;
}

/**
 * The source environment and its URL, from the environment's variable or `--from-url-env`
 * (never argv). Refused before anything connects: `--from` given a URL, an unknown
 * environment, an unset variable, and a URL that is not `postgres://`/`postgresql://` or does
 * not parse (URL_INVALID, redacted), as for import.
 */
export function sourceUrl(config: LoadedConfig, o: SourceOptions, env: NodeJS.ProcessEnv = process.env): SourceUrl {
  if (o.from?.includes("://")) {
    throw new EtlError("USAGE", "--from takes an environment's name, never a URL: argv reaches shell history and ps", {
      step: "preflight",
      next: "put the URL in a variable and name it: export SOURCE_URL=postgresql://…, then --from-url-env SOURCE_URL",
    });
  }
  // only --from-url-env: the source is that variable's database, not one of the config's environments
  const environment =
    o.from === undefined && o.fromUrlEnv !== undefined ? null : resolveEnvironment(config, pickEnvironmentName(o.from, env), "--from");
  if (o.url) {
    hostOf(o.url, null);
    return { environment: environment?.name ?? null, url: o.url, urlVariable: null };
  }
  const variable = o.fromUrlEnv ?? (environment as NonNullable<typeof environment>).urlVariable;
  const url = env[variable];
  if (!url) {
    throw new EtlError("DATABASE_URL_MISSING", `${variable} is not set (the source URL${environment ? ` of ${environment.name}` : ""})`, {
      step: "preflight",
      next: `export ${variable}=postgresql://…  (or --from-url-env <VAR>)`,
    });
  }
  hostOf(url, variable); // URL_INVALID unless a postgres:// URL that parses, naming the variable
  return { environment: environment?.name ?? null, url, urlVariable: variable };
}

/** Prisma's data model, for model and field names; the client is made and dropped without a query. */
async function dataModel(config: LoadedConfig, url: string): Promise<RuntimeDataModel | undefined> {
  const tool = await ToolClient.create(config.client, url);
  try {
    return tool.client._runtimeDataModel;
  } finally {
    await tool.close();
  }
}

const DEFAULT_JOBS = 2;
const DEFAULT_BATCH = 5000;

/** What sets `export` and `sample` apart once their own checks passed. */
export interface SourceJob {
  /** The release directory (absolute). */
  out: string;
  /** Where `import <name>` reads the release (absolute): the next step names it. */
  readsFrom: string;
  plan: (catalog: Map<string, SourceTable>, dm: RuntimeDataModel | undefined) => SamplePlan;
  /** The keyed hash for masks, asked for once the output is known to be free. */
  hash: () => MakeReleaseOptions["hash"];
  /** What the log lines carry: the command and its release or sample. */
  logFields: Record<string, string>;
}

/**
 * The part `export` and `sample` share: the source's URL, then the output must be free (or
 * `force`), then the masking secret and Prisma's names; then the release is made in one snapshot.
 */
export async function fromSource(config: LoadedConfig, o: SourceOptions, job: SourceJob): Promise<ReleaseReport> {
  // the cheapest checks first, and what the command names before what the machine has
  const { environment, url, urlVariable } = sourceUrl(config, o);
  assertOutputFree(job.out, o.force === true, shownPath(job.out));
  const hash = job.hash();
  const dm = await dataModel(config, url);
  const made = await makeRelease({
    url,
    environment,
    urlVariable,
    schema: config.schema,
    out: job.out,
    plan: (catalog) => job.plan(catalog, dm),
    jobs: o.jobs ?? DEFAULT_JOBS,
    batchSize: o.batchSize ?? DEFAULT_BATCH,
    hash,
    log: (o.logger ?? silentLogger()).child(job.logFields),
    hooks: o.hooks,
  });
  return { ...made, next: importNext(config, made.name, job) };
}

/** A path as the person typed it: relative to the working directory when inside it, else absolute. */
function shownPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}

/**
 * What to run to import what was written: `import <name>` when it went where that reads;
 * otherwise how to put it where an import finds it (a folder with its release.json under
 * `releasesDir` needs no config entry).
 */
function importNext(config: LoadedConfig, name: string, job: SourceJob): string {
  if (path.resolve(job.out) === path.resolve(job.readsFrom)) return `atomic-etl import ${name} --env <env>`;
  const releases = path.resolve(config.root, config.releasesDir);
  return `import ${name} reads ${job.readsFrom}, not this folder: copy it to ${path.join(releases, "<new-name>")}, then atomic-etl import <new-name> --env <env> (its release.json needs no config entry)`;
}
