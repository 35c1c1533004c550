import { ERROR_CODES } from "../errors.js";

/** Process exit codes; README "Exit codes" is generated from the same table. */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
} as const;

/** Every distinct exit code with the error codes that use it. */
export function exitCodeTable(): { exit: number; codes: string[] }[] {
  const by = new Map<number, string[]>();
  for (const [code, exit] of Object.entries(ERROR_CODES)) by.set(exit, [...(by.get(exit) ?? []), code]);
  return [...by].sort((a, b) => a[0] - b[0]).map(([exit, codes]) => ({ exit, codes }));
}
