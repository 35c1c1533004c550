/**
 * CLI: generate a deterministic data release for the example schema.
 *
 *   tsx scripts/generate-release.ts --out etl/releases/league-2026 --rows 5000 \
 *     [--seed 2026] [--season 2026] [--format json|ndjson] [--csv DIR] [--keys fields|columns]
 *
 * The work is done by generateRelease() in scripts/release-generator.ts.
 */
import { parseArgs } from "node:util";
import { generateRelease, RELEASE_TABLES } from "./release-generator.js";

const USAGE =
  "usage: tsx scripts/generate-release.ts --out DIR --rows N [--seed N] [--season YEAR] [--format json|ndjson] [--csv DIR] [--keys fields|columns]";

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function integer(name: string, text: string | undefined, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) fail(`--${name} is required`);
    return fallback;
  }
  if (!/^-?\d+$/.test(text.replace(/_/g, ""))) fail(`--${name} must be an integer (got ${text})`);
  return Number(text.replace(/_/g, ""));
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        out: { type: "string" },
        rows: { type: "string" },
        seed: { type: "string" },
        season: { type: "string" },
        format: { type: "string" },
        csv: { type: "string" },
        keys: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const out = typeof values.out === "string" ? values.out : fail("--out is required");
  const format = (values.format as string | undefined) ?? "json";
  if (format !== "json" && format !== "ndjson") fail(`--format must be json or ndjson (got ${format})`);
  const keys = (values.keys as string | undefined) ?? "fields";
  if (keys !== "fields" && keys !== "columns") fail(`--keys must be fields or columns (got ${keys})`);

  const started = Date.now();
  const result = await generateRelease({
    out,
    rows: integer("rows", values.rows as string | undefined),
    seed: integer("seed", values.seed as string | undefined, 2026),
    season: integer("season", values.season as string | undefined, 2026),
    format,
    keys,
    ...(typeof values.csv === "string" ? { csvDir: values.csv } : {}),
  });
  const counts = RELEASE_TABLES.map((t) => `${t}=${result.counts[t]}`).join(" ");
  process.stdout.write(`wrote ${result.plan.rows} rows to ${out} in ${Date.now() - started} ms: ${counts}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`generate-release: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
