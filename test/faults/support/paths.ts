import path from "node:path";

/** Absolute paths the fault tests share. */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");
export const MIGRATIONS_DIR = path.join(REPO_ROOT, "prisma", "migrations");
/** Config file of CLI and driver runs; see fault.config.ts. */
export const FAULT_CONFIG = path.join(REPO_ROOT, "test/faults/support/fault.config.ts");
export const CLI = path.join(REPO_ROOT, "src/cli/main.ts");
export const DRIVER = path.join(REPO_ROOT, "test/faults/support/etl-driver.ts");
