import { EtlError } from "../errors.js";

/** A positive whole number from argv, or USAGE naming the flag. */
export function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new EtlError("USAGE", `${flag} takes a positive whole number, got "${v}"`, { step: "config" });
  return n;
}

/** `--wait [seconds]` as milliseconds: absent = fail fast (undefined), bare = 600 s. */
export function waitOption(v: string | boolean | undefined): number | undefined {
  if (v === undefined || v === false) return undefined;
  return v === true ? 600_000 : positiveInt(v, "--wait") * 1000;
}
