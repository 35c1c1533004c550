import { z } from "zod";

/** A function-valued config key (zod cannot describe its signature). */
export const fn = <T>(what: string) => z.custom<T>((v) => typeof v === "function", { message: `expected ${what}` });

/** A PostgreSQL identifier as a config value: 1-63 characters, no NUL (quoted wherever it is used). */
export const identifier = z
  .string()
  .min(1)
  .max(63)
  .refine((s) => !s.includes("\u0000"), "must not contain a NUL byte");
