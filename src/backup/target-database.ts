import type { LoadedConfig } from "../config/load.js";
import { type DatabaseIdentity, readDatabaseIdentity } from "../db/database-identity.js";
import { connect, pgTx } from "../db/pg-client.js";
import { EtlError } from "../errors.js";

/**
 * The connection URL of an environment: `explicit`, else the variable the config names for it
 * (default DATABASE_URL). DATABASE_URL_MISSING when there is none; `hint` adds a way around it.
 *
 * @example databaseUrlFor(config, "staging") // => process.env.DATABASE_URL
 */
export function databaseUrlFor(config: LoadedConfig, env: string, explicit?: string, hint = ""): string {
  const urlVar = config.databaseUrlEnv[env as keyof LoadedConfig["databaseUrlEnv"]] ?? "DATABASE_URL";
  const url = explicit ?? process.env[urlVar];
  if (!url)
    throw new EtlError("DATABASE_URL_MISSING", `${urlVar} is not set`, { step: "config", next: `export ${urlVar}=postgresql://…${hint}` });
  return url;
}

/** The identity of the database `url` reaches, on a short-lived connection. */
export async function identityOf(url: string): Promise<DatabaseIdentity> {
  const client = await connect(url, "atomic-etl:identity");
  try {
    return await readDatabaseIdentity(pgTx(client));
  } finally {
    await client.end().catch(() => undefined);
  }
}
