/**
 * Generates the Prisma clients offline, each once per schema change: the example app's
 * (prisma/schema.prisma → etl/generated/prisma), the "in the wild" test schema's
 * (test/fixtures/wild/schema.prisma → test/fixtures/wild/generated) and the client-side
 * defaults fixture's (test/fixtures/client-defaults). `prisma generate` only needs
 * PRISMA_SCHEMA_ENGINE_BINARY to point at an existing file; without it, it tries to download
 * the schema engine. A stamp with the schema's sha256 skips regeneration when nothing
 * changed, so concurrent test files never see a half-written client.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";

const CLIENTS = [
  { schema: "prisma/schema.prisma", out: "etl/generated/prisma" },
  { schema: "test/fixtures/wild/schema.prisma", out: "test/fixtures/wild/generated" },
  { schema: "test/fixtures/client-defaults/schema.prisma", out: "test/fixtures/client-defaults/generated" },
];

const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath };
for (const c of CLIENTS) {
  if (!existsSync(c.schema)) continue; // a packed copy ships without the test schema
  const stamp = path.join(c.out, ".schema-sha256");
  const schemaHash = createHash("sha256").update(readFileSync(c.schema)).digest("hex");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === schemaHash && existsSync(path.join(c.out, "client.ts"))) continue;
  const r = await execa("prisma", ["generate", "--schema", c.schema], { env, preferLocal: true, reject: false, all: true });
  if (r.exitCode !== 0) {
    process.stderr.write(`${r.all}\n`);
    process.exit(r.exitCode ?? 1);
  }
  writeFileSync(stamp, schemaHash);
}
