import type { LoadedConfig } from "../config/load.js";
import { EtlError } from "../errors.js";
import { releaseDir } from "../release/release-files.js";
import { planExport } from "../sample/plan.js";
import type { ReleaseReport } from "../sample/make-release.js";
import { fromSource, type SourceOptions } from "../sample/source-target.js";
import path from "node:path";

export interface ExportOptions extends SourceOptions {
  /** A release of the config: its tables are exported whole into its files. */
  release: string;
}

/**
 * `atomic-etl export <release> --from <env>`: every row of the release's tables, read in one
 * snapshot without writing to the source, into the files the release names (so `import`
 * reads them back as configured), plus release.json.
 *
 * @example await exportRelease(config, { release: "league-2026", from: "production", out: "/tmp/league" })
 */
export async function exportRelease(config: LoadedConfig, o: ExportOptions): Promise<ReleaseReport> {
  const release = config.releases[o.release];
  if (!release) {
    throw new EtlError(
      "UNKNOWN_RELEASE",
      `unknown release "${o.release}"; configured: ${Object.keys(config.releases).join(", ") || "none"}`,
      {
        step: "config",
        next: config.samples[o.release] ? `"${o.release}" is a sample: atomic-etl sample ${o.release}` : undefined,
      },
    );
  }
  const readsFrom = releaseDir(config, o.release, release);
  const out = o.out ? path.resolve(config.root, o.out) : readsFrom;
  return fromSource(config, o, {
    out,
    readsFrom,
    plan: (catalog, dm) => planExport({ name: o.release, release, catalog, dm }),
    hash: () => () => {
      throw new EtlError("INTERNAL", "an export masks nothing");
    },
    logFields: { command: "export", release: o.release },
  });
}
