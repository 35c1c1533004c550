import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { EtlError } from "../errors.js";

/** Refuses an existing output directory unless `force` (nothing is written either way). */
export function assertOutputFree(out: string, force: boolean, shown = out): void {
  if (existsSync(out) && !force) {
    throw new EtlError("OUTPUT_EXISTS", `${shown} already exists`, {
      step: "preflight",
      file: shown,
      next: "pass --force to replace it (it is swapped out only once the new release is complete and verified), or --out <dir>",
    });
  }
}

/**
 * A release is written into a fresh sibling temp directory and renamed into place only when
 * it is complete and verified: a failed or killed run never leaves a partial release under
 * the real name.
 */
export async function createStaging(out: string): Promise<string> {
  await mkdir(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${randomBytes(4).toString("hex")}`;
  await mkdir(tmp, { mode: 0o700 });
  return tmp;
}

/** Moves the finished release into place, replacing an old one (kept aside until the swap is done). */
export async function commitStaging(tmp: string, out: string): Promise<void> {
  let old: string | null = null;
  if (existsSync(out)) {
    old = `${out}.old-${randomBytes(4).toString("hex")}`;
    await rename(out, old);
  }
  try {
    await rename(tmp, out);
  } catch (e) {
    if (old) await rename(old, out).catch(() => undefined);
    throw e;
  }
  if (old) await rm(old, { recursive: true, force: true });
}

export async function discardStaging(tmp: string | null): Promise<void> {
  if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
}
