import type { Logger } from "pino";
import { pickEnvironmentName } from "../config/environments.js";
import { type LoadedConfig, resolveEnvironment } from "../config/load.js";
import type { RuntimeDataModel } from "../db/prisma-like.js";
import { ToolClient } from "../db/tool-client.js";
import { EtlError } from "../errors.js";
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
  const { name } = resolveEnvironment(config, pickEnvironmentName(o.from));
  if (o.url) return { environment: name, url: o.url };
  const variable = o.fromUrlEnv ?? config.databaseUrlEnv[name] ?? "DATABASE_URL";
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
export async function dataModel(config: LoadedConfig, url: string): Promise<RuntimeDataModel | undefined> {
  const tool = await ToolClient.create(config.client, url);
  try {
    return tool.client._runtimeDataModel;
  } finally {
    await tool.close();
  }
}

export const DEFAULT_JOBS = 2;
export const DEFAULT_BATCH = 5000;
