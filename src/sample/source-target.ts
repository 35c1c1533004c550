import path from "node:path";
import type { Logger } from "pino";
import { pickEnvironmentName } from "../config/environments.js";
import { type LoadedConfig, resolveEnvironment } from "../config/load.js";
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

/** The source environment and its URL, from the environment's variable (never argv). */
export function sourceUrl(config: LoadedConfig, o: SourceOptions): { environment: string; url: string } {
  const { name, urlVariable } = resolveEnvironment(config, pickEnvironmentName(o.from));
  if (o.url) return { environment: name, url: o.url };
  const variable = o.fromUrlEnv ?? urlVariable;
  const url = process.env[variable];
  if (!url) {
    throw new EtlError("DATABASE_URL_MISSING", `${variable} is not set (the source URL of ${name})`, {
      step: "config",
      next: `export ${variable}=postgresql://…  (or --from-url-env <VAR>)`,
    });
  }
  return { environment: name, url };
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
 * The part `export` and `sample` share: the output must be free (or `force`), then the
 * source's URL and Prisma names, then the release is made in one snapshot.
 */
export async function fromSource(config: LoadedConfig, o: SourceOptions, job: SourceJob): Promise<ReleaseReport> {
  assertOutputFree(job.out, o.force === true, path.relative(config.root, job.out) || job.out);
  const hash = job.hash();
  const { environment, url } = sourceUrl(config, o);
  const dm = await dataModel(config, url);
  const made = await makeRelease({
    url,
    environment,
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
