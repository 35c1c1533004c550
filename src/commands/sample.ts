import path from "node:path";
import type { LoadedConfig } from "../config/load.js";
import { sampleConfigSchema } from "../config/samples-schema.js";
import { EtlError } from "../errors.js";
import { needsSecret } from "../sample/mask-plan.js";
import { keyedHash, maskSecret } from "../sample/maskers.js";
import { planSample } from "../sample/plan.js";
import type { ReleaseReport } from "../sample/make-release.js";
import { fromSource, type SourceOptions } from "../sample/source-target.js";

export interface SampleOptions extends SourceOptions {
  /** Sample name: its config under `samples`, and the release it writes. */
  name: string;
  /** `--limit` arguments (`players=1000`, `*=100`, `matches=10%`), over the config's limits. */
  limits?: string[];
}

const noSecret = () => {
  throw new EtlError("INTERNAL", "a masker asked for the keyed hash although no rule needs the secret");
};

/**
 * `atomic-etl sample <name> --from <env>`: an FK-closed, optionally masked subset of the
 * source, read in one snapshot without writing to it, as a release directory that
 * `atomic-etl import <name>` loads as it is. Everything refusable is refused before a
 * connection is opened or a file written.
 *
 * @example await sample(config, { name: "laptop", from: "production", limits: ["*=100"] })
 */
export async function sample(config: LoadedConfig, o: SampleOptions): Promise<ReleaseReport> {
  if (!/^[A-Za-z0-9._-]+$/.test(o.name) || o.name === "." || o.name === "..") {
    throw new EtlError("USAGE", `sample names use letters, digits, . _ -; got "${o.name}"`, {
      step: "preflight",
      next: "name the sample with letters, digits, . _ - (it is also the release's folder name)",
    });
  }
  const configured = config.samples[o.name];
  if (!configured && !o.limits?.length) {
    throw new EtlError("UNKNOWN_SAMPLE", `unknown sample "${o.name}"; configured: ${Object.keys(config.samples).join(", ") || "none"}`, {
      step: "config",
      next: `add samples.${o.name} to the config, or pass --limit (e.g. --limit '*=100')`,
    });
  }
  if (config.releases[o.name]) {
    throw new EtlError("CONFIG_INVALID", `"${o.name}" is both a release and a sample: import ${o.name} would load the configured release`, {
      step: "config",
      next: "rename the sample, or use atomic-etl export for the configured release",
    });
  }
  const spec = configured ?? sampleConfigSchema.parse({});
  const readsFrom = path.resolve(config.root, config.releasesDir, o.name);
  const out = o.out === undefined ? readsFrom : path.resolve(config.root, o.out);
  return fromSource(config, o, {
    out,
    readsFrom,
    plan: (catalog, dm) => planSample({ name: o.name, sample: spec, cliLimits: o.limits ?? [], catalog, dm }),
    hash: () => (Object.values(spec.masks).some(needsSecret) ? keyedHash(maskSecret(spec.maskSecretEnv)) : noSecret),
    logFields: { command: "sample", sample: o.name },
  });
}
