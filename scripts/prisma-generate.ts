/**
 * Generates the example Prisma client (etl/generated/prisma) offline.
 * `prisma generate` only needs PRISMA_SCHEMA_ENGINE_BINARY to point at an existing file;
 * without it, it tries to download the schema engine.
 */
import { execa } from "execa";

const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath };
const r = await execa("prisma", ["generate"], { env, preferLocal: true, reject: false, all: true });
if (r.exitCode !== 0) {
  process.stderr.write(`${r.all}\n`);
  process.exit(r.exitCode ?? 1);
}
