import { existsSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";

let probed: Promise<string | null> | null = null;

/** setpriv (util-linux) on PATH when it supports --pdeathsig; null elsewhere (macOS, old util-linux). */
function deathSignalWrapper(): Promise<string | null> {
  probed ??= (async () => {
    if (process.platform !== "linux") return null;
    const found = (process.env.PATH ?? "")
      .split(path.delimiter)
      .filter(Boolean)
      .map((d) => path.join(d, "setpriv"))
      .find((p) => existsSync(p));
    if (!found) return null;
    const r = await execa(found, ["--pdeathsig", "KILL", "--", process.execPath, "-e", ""], { reject: false, stdin: "ignore" });
    return r.exitCode === 0 ? found : null;
  })();
  return probed;
}

/**
 * The command line that runs `file` as a child that dies with this process: on Linux, through
 * `setpriv --pdeathsig KILL`, so a pg_dump whose CLI was killed (`kill -9`, OOM) stops at once
 * instead of writing on into a file nobody will keep. Where that is not available the child
 * runs as it is (it then ends when its dump is done, and the next backup sweeps its file).
 *
 * @example const [cmd, argv] = await diesWithParent("/usr/bin/pg_dump", ["--version"]) // ["/usr/bin/setpriv", ["--pdeathsig", "KILL", "--", "/usr/bin/pg_dump", "--version"]]
 */
export async function diesWithParent(file: string, args: readonly string[]): Promise<[string, string[]]> {
  const wrapper = await deathSignalWrapper();
  return wrapper ? [wrapper, ["--pdeathsig", "KILL", "--", file, ...args]] : [file, [...args]];
}
