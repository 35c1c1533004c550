/**
 * Hostile files on disk: missing, a directory, a symlink loop, unreadable. Each writes the
 * release's file (or what stands in its place) itself.
 */
import { chmod, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import type { Expectation, HostileCase } from "./hostile-kit.js";

export interface FilesystemCase extends HostileCase {
  write(file: string): Promise<void>;
}

const preflight = (code: string, message: string, exit: number): Expectation => ({
  code,
  message,
  record: null,
  field: null,
  namesFile: true,
  exit,
});

export const FILESYSTEM_CASES: FilesystemCase[] = [
  {
    id: "missing-file",
    about: "the configured file does not exist",
    target: "teams",
    expect: preflight("INPUT_MISSING", "no such file", 3),
    write: (file) => rm(file, { force: true }),
  },
  {
    id: "directory-for-file",
    about: "a directory where the file should be",
    target: "teams",
    expect: preflight("INPUT_UNREADABLE", "not a regular file (a directory)", 3),
    write: (file) => mkdir(file),
  },
  {
    id: "symlink-loop",
    about: "the file is a symbolic link to a link back to it",
    target: "teams",
    expect: preflight("INPUT_UNREADABLE", "symbolic link loop", 3),
    write: async (file) => {
      await symlink(`${file}.other`, file);
      await symlink(file, `${file}.other`);
    },
  },
];

/**
 * chmod 000: root reads it anyway (access checks pass), so as root this case must run as
 * another OS user; see hostile-cli.test.ts, which runs it as `postgres`.
 */
export const UNREADABLE_CASE: FilesystemCase = {
  id: "unreadable-file",
  about: "a file nobody may read (chmod 000)",
  target: "teams",
  expect: preflight("INPUT_UNREADABLE", "permission denied", 3),
  write: async (file) => {
    await writeFile(file, "[]\n");
    await chmod(file, 0o000);
  },
};
