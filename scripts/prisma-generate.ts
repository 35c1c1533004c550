/**
 * Generates the example Prisma client (etl/generated/prisma) offline, once per schema change.
 * `prisma generate` only needs PRISMA_SCHEMA_ENGINE_BINARY to point at an existing file;
 * without it, it tries to download the schema engine. A stamp with the schema's sha256 skips
 * regeneration when nothing changed, so concurrent test files never see a half-written client.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { execa } from "execa";

const stamp = "etl/generated/prisma/.schema-sha256";
const schemaHash = createHash("sha256").update(readFileSync("prisma/schema.prisma")).digest("hex");
if (existsSync(stamp) && readFileSync(stamp, "utf8") === schemaHash && existsSync("etl/generated/prisma/client.ts")) process.exit(0);

const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath };
const r = await execa("prisma", ["generate"], { env, preferLocal: true, reject: false, all: true });
if (r.exitCode !== 0) {
  process.stderr.write(`${r.all}\n`);
  process.exit(r.exitCode ?? 1);
}
writeFileSync(stamp, schemaHash);
