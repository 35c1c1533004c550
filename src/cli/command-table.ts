import type { Command } from "commander";
import type { CliContext } from "./context.js";

/** One CLI command: what the top-level help shows of it, and how to load its full definition. */
export interface CommandEntry {
  name: string;
  /** The help's left column: name, `[options]` and arguments, as commander prints them. */
  term: string;
  /** The command's description, as its module registers it. */
  summary: string;
  /** Imports the command's module (and with it only what that command uses) and returns its register function. */
  load: () => Promise<(program: Command, ctx: CliContext) => void>;
}

/**
 * Every command, in the order of the help. A run loads only the module of the command it runs:
 * `sample` pulls in the maskers (copycat itself only when a name, email or phone mask is
 * built), `import` Prisma, pg and the validators, and `--help` or `--version` none of them.
 * The terms and summaries here are checked against the modules' own definitions by
 * test/cli/command-table.test.ts.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "import",
    term: "import [options] <release>",
    summary: "import a release in one transaction: backup, load, validate, commit once or roll back",
    load: async () => (await import("./import-command.js")).registerImport,
  },
  {
    name: "plan",
    term: "plan [options] <release>",
    summary:
      "show what an import would change, through the import's own path, ending in ROLLBACK: writes nothing, blocks no reader or writer",
    load: async () => (await import("./plan-command.js")).registerPlan,
  },
  {
    name: "backups",
    term: "backups [options]",
    summary: "list this database's backups in an environment, newest first (--all: every database's)",
    load: async () => (await import("./backups-command.js")).registerBackups,
  },
  {
    name: "restore",
    term: "restore [options] <id>",
    summary: "restore the tables of a backup in one transaction, proven equal to its manifest before COMMIT",
    load: async () => (await import("./restore-command.js")).registerRestore,
  },
  {
    name: "history",
    term: "history [options]",
    summary: "show the ledger: every import (committed, rolled back, refused) and restore of this environment, newest first",
    load: async () => (await import("./history-command.js")).registerHistory,
  },
  {
    name: "status",
    term: "status [options]",
    summary: "per release: the last deploy here, and whether its tables still hold what it committed (drift)",
    load: async () => (await import("./status-command.js")).registerStatus,
  },
  {
    name: "export",
    term: "export [options] <release>",
    summary: "write every row of a release's tables from a live database into the release's files, from one read-only snapshot",
    load: async () => (await import("./export-command.js")).registerExport,
  },
  {
    name: "sample",
    term: "sample [options] <name>",
    summary: "write an FK-closed (optionally masked) sample of a live database as a release, from one read-only snapshot",
    load: async () => (await import("./sample-command.js")).registerSample,
  },
];

/**
 * The command `argv` runs (`atomic-etl import …`, `atomic-etl help import`), or null for the
 * top-level help, `--version` or an unknown command.
 *
 * @example commandOf(["node", "atomic-etl", "import", "r"])?.name // "import"
 */
export function commandOf(argv: readonly string[]): CommandEntry | null {
  const words = argv.slice(2).filter((a) => !a.startsWith("-"));
  const name = words[0] === "help" ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === name) ?? null;
}
