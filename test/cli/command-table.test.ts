/**
 * The top-level help is drawn from the command table without loading any command; each entry
 * must say what its command's own module registers, and `--version` prints the package's version.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Command, Help } from "commander";
import { describe, expect, it } from "vitest";
import { COMMANDS, commandOf } from "../../src/cli/command-table.js";
import { createLogger } from "../../src/reporting/logger.js";
import { REPO_ROOT } from "../fixtures/core/kit.js";
import { execa } from "execa";

describe("the CLI's command table", () => {
  it("should hold each command's name, help term and description exactly as its module registers them", async () => {
    const help = new Help();
    for (const entry of COMMANDS) {
      const program = new Command();
      (await entry.load())(program, { logger: createLogger(), out: () => undefined });
      const [cmd] = program.commands;
      expect(program.commands).toHaveLength(1);
      expect({ name: cmd?.name(), term: cmd && help.subcommandTerm(cmd), summary: cmd?.description() }).toEqual({
        name: entry.name,
        term: entry.term,
        summary: entry.summary,
      });
    }
  });

  it("should pick the command an argv runs, or none for the top-level help and --version", () => {
    expect(commandOf(["node", "atomic-etl", "import", "r", "--json"])?.name).toBe("import");
    expect(commandOf(["node", "atomic-etl", "help", "sample"])?.name).toBe("sample");
    expect(commandOf(["node", "atomic-etl", "--help"])).toBeNull();
    expect(commandOf(["node", "atomic-etl", "--version"])).toBeNull();
    expect(commandOf(["node", "atomic-etl", "impor"])).toBeNull();
  });

  it("should print the package's version on --version and list every command on --help", async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    const tsx = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
    const main = path.join(REPO_ROOT, "src", "cli", "main.ts");
    const version = await execa(tsx, [main, "--version"], { reject: false });
    expect(version).toMatchObject({ exitCode: 0, stdout: pkg.version });
    const help = await execa(tsx, [main, "--help"], { reject: false });
    expect(help.exitCode).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toContain(c.term);
    expect(help.stdout).toContain("help [command]");
  }, 120_000);
});
