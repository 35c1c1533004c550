import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { access, constants, stat } from "node:fs/promises";
import path from "node:path";
import type { LoadedConfig } from "../config/load.js";
import type { ReleaseConfig } from "../config/schema.js";
import { EtlError } from "../errors.js";

export interface ReleaseFile {
  entry: ReleaseConfig["tables"][number];
  /** Absolute path. */
  path: string;
  /** Relative to the project root, for people. */
  file: string;
  size: number;
  sha256: string;
}

/** The release's folder: its `dir`, or `<releasesDir>/<name>`. */
export function releaseDir(config: LoadedConfig, name: string, release: ReleaseConfig): string {
  return path.resolve(config.root, release.dir ?? path.join(config.releasesDir, name));
}

/** sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/**
 * Checks that every input file exists, is a regular readable file, and records its size
 * and checksum. All problems are found before anything is touched.
 */
export async function checkReleaseFiles(
  config: LoadedConfig,
  name: string,
  release: ReleaseConfig,
): Promise<{ files: ReleaseFile[]; releaseHash: string }> {
  const dir = releaseDir(config, name, release);
  const files: ReleaseFile[] = [];
  for (const entry of release.tables) {
    const abs = path.resolve(dir, entry.file);
    const rel = path.relative(config.root, abs) || abs;
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ELOOP")
        throw new EtlError("INPUT_UNREADABLE", `${rel}: symbolic link loop`, { step: "preflight", file: rel, cause: e });
      throw new EtlError("INPUT_MISSING", `${rel}: no such file (release "${name}", ${entry.model ?? entry.table})`, {
        step: "preflight",
        file: rel,
        cause: e,
        next: `generate or copy the release into ${path.relative(config.root, dir) || dir}`,
      });
    }
    if (!st.isFile())
      throw new EtlError("INPUT_UNREADABLE", `${rel}: not a regular file (${st.isDirectory() ? "a directory" : "special file"})`, {
        step: "preflight",
        file: rel,
      });
    try {
      await access(abs, constants.R_OK);
    } catch (e) {
      throw new EtlError("INPUT_UNREADABLE", `${rel}: permission denied`, { step: "preflight", file: rel, cause: e });
    }
    files.push({
      entry,
      path: abs,
      file: rel,
      size: st.size,
      sha256: await sha256File(abs).catch((e: unknown) => {
        throw new EtlError("INPUT_UNREADABLE", `${rel}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
          step: "preflight",
          file: rel,
          cause: e,
        });
      }),
    });
  }
  const h = createHash("sha256");
  for (const f of files) h.update(`${f.entry.file}\0${f.sha256}\n`);
  return { files, releaseHash: h.digest("hex") };
}
