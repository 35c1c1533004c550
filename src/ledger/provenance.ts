import { readFileSync } from "node:fs";
import os from "node:os";
import { execa } from "execa";

/** Who and what ran a run, as the ledger records it. Never a secret: no URL, no environment dump. */
export interface Provenance {
  toolVersion: string;
  /** HEAD of the project's git checkout (or ATOMIC_ETL_GIT_COMMIT), null when neither is there. */
  gitCommit: string | null;
  osUser: string | null;
  host: string | null;
}

/** The version of this atomic-etl package (package.json two folders up from src/ledger and dist/ledger). */
export function toolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

async function gitCommit(root: string): Promise<string | null> {
  const given = process.env.ATOMIC_ETL_GIT_COMMIT?.trim();
  if (given) return given;
  const r = await execa("git", ["rev-parse", "--verify", "HEAD"], { cwd: root, reject: false, timeout: 5_000, stdin: "ignore" }).catch(
    () => null,
  );
  const sha = r?.exitCode === 0 ? String(r.stdout).trim() : "";
  return /^[0-9a-f]{40,64}$/.test(sha) ? sha : null;
}

function osUser(): string | null {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? null;
  }
}

const cache = new Map<string, Promise<Provenance>>();

/**
 * The provenance of runs of the project at `root`, read once per process.
 *
 * @example const p = await provenance(config.root) // { toolVersion: "0.1.0", gitCommit: "3f2a…", osUser: "deploy", host: "ci-7" }
 */
export function provenance(root: string): Promise<Provenance> {
  let p = cache.get(root);
  if (!p) {
    p = gitCommit(root).then((commit) => ({
      toolVersion: toolVersion(),
      gitCommit: commit,
      osUser: osUser(),
      host: os.hostname() || null,
    }));
    cache.set(root, p);
  }
  return p;
}
