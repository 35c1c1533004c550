import { readFileSync } from "node:fs";
import path from "node:path";
import type { LoadedConfig } from "../config/load.js";
import { type ReleaseConfig, releaseConfigSchema } from "../config/schema.js";
import { EtlError } from "../errors.js";
import { MANIFEST_FILE, releaseManifestSchema } from "./manifest.js";

const RELEASE_NAME = /^[A-Za-z0-9._-]+$/;

/** Reads a file's text, or null when it does not exist. */
export type ReadText = (file: string) => string | null;

const readIfExists: ReadText = (file) => {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw e;
  }
};

/**
 * The release `import <name>` loads: the config's entry when it lists one; otherwise the
 * `release.json` that `export`/`sample` wrote in `<releasesDir>/<name>/` (tables by table
 * name, column-keyed files; `allowEmpty` where the manifest says the table was written with no
 * rows), so a produced release imports with no edit to the config.
 * Returns undefined when neither exists. Pure apart from `read`.
 *
 * @example const release = resolveRelease(config, "laptop") // from etl/releases/laptop/release.json
 */
export function resolveRelease(config: LoadedConfig, name: string, read: ReadText = readIfExists): ReleaseConfig | undefined {
  const configured = config.releases[name];
  if (configured) return configured;
  if (!RELEASE_NAME.test(name) || name === "." || name === "..") return undefined;
  const file = path.resolve(config.root, config.releasesDir, name, MANIFEST_FILE);
  const text = read(file);
  if (text === null) return undefined;
  const invalid = (why: string, cause?: unknown) =>
    new EtlError("CONFIG_INVALID", `${path.relative(config.root, file)}: not a release manifest (${why})`, {
      step: "config",
      file: path.relative(config.root, file),
      cause,
      next: `re-run the export/sample that wrote it, or list release "${name}" in the config`,
    });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalid((e as Error).message, e);
  }
  const manifest = releaseManifestSchema.safeParse(json);
  if (!manifest.success) throw invalid(manifest.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  // a table the tool wrote empty (a sample's selection reached none of its rows, an export of
  // an empty table) is meant to empty the target: the sample replaces the whole schema. The
  // empty-file guard is for files that lost their rows, and those disagree with the manifest.
  return releaseConfigSchema.parse({
    tables: manifest.data.tables.map((t) => ({ table: t.table, file: t.file, keys: t.keys, allowEmpty: t.rows === 0 })),
  });
}
