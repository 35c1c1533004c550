import { createHmac } from "node:crypto";
import { createRequire } from "node:module";
import type { copycat as Copycat } from "@snaplet/copycat";
import type { MaskRule } from "../config/samples-schema.js";
import { EtlError } from "../errors.js";
import type { ColumnInfo } from "../sql/catalog.js";

/**
 * @snaplet/copycat (CommonJS), required on first use: loading it takes ~0.8 s (its faker
 * locales), which an export or a sample without a name, email or phone mask never pays.
 */
let copycatModule: typeof Copycat | null = null;
const copycat = (): typeof Copycat =>
  (copycatModule ??= (createRequire(import.meta.url)("@snaplet/copycat") as { copycat: typeof Copycat }).copycat);

/** Shortest secret accepted: a short one can be brute-forced against known inputs. */
export const MIN_SECRET_LENGTH = 16;

/** Reads the masking secret from its environment variable; refused when missing or short. */
export function maskSecret(envVar: string, env: NodeJS.ProcessEnv = process.env): string {
  const s = env[envVar];
  if (!s || s.length < MIN_SECRET_LENGTH) {
    throw new EtlError(
      "MASK_SECRET_MISSING",
      `${envVar} is ${s ? `shorter than ${MIN_SECRET_LENGTH} characters` : "not set"}: deterministic masking needs a secret key, and never runs with a known one`,
      {
        step: "preflight",
        next: `export ${envVar}="$(openssl rand -base64 32)" (keep it: the same secret gives the same masked values); nothing was written`,
      },
    );
  }
  return s;
}

/**
 * The keyed hash every deterministic masker derives from: HMAC-SHA256 of the rule's name and
 * the value, so the same value masks the same way in every table and run (a key and each FK
 * that references it agree), and nobody without the secret can map outputs back to inputs.
 */
export function keyedHash(secret: string): (domain: string, value: unknown) => string {
  return (domain, value) =>
    createHmac("sha256", secret)
      .update(`${domain}\u0000${typeof value === "string" ? value : JSON.stringify(value)}`)
      .digest("hex");
}

const LOREM =
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est laborum".split(
    " ",
  );

/** Lorem words of exactly the original's length (in characters), picked by the hash bytes (fast; no model of the text). */
function loremOfLength(h: string, secretHash: (d: string, v: unknown) => string, length: number): string {
  let out = "";
  let bytes = h;
  for (let i = 0, round = 0; out.length < length; i += 2) {
    if (i + 2 > bytes.length) {
      bytes = secretHash("text-more", `${h}:${++round}`);
      i = 0;
    }
    out += (out ? " " : "") + (LOREM[parseInt(bytes.slice(i, i + 2), 16) % LOREM.length] as string);
  }
  const cut = out.slice(0, length);
  // a cut between two words would end in a space: that place becomes a letter, so the length stays the original's
  return cut.endsWith(" ") ? `${cut.slice(0, -1)}s` : cut;
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "");

const fit = (s: string, max: number | null) => (max !== null && s.length > max ? s.slice(0, max) : s);

/** One column's masker: value in, masked value out (NULL stays NULL for built-in rules). */
export type ColumnMasker = (value: unknown) => unknown;

/**
 * Builds the masker of one column. Realistic names come from @snaplet/copycat fed with the
 * keyed hash (never copycat's process-wide key); emails get 24 bits of the hash so that
 * distinct inputs stay distinct, and use the reserved domain example.com, so no masked
 * address can receive mail. Values are cut to the column's length.
 */
export function columnMasker(
  rule: MaskRule,
  col: ColumnInfo,
  ctx: { table: string; hash: (domain: string, value: unknown) => string },
): ColumnMasker {
  const max = col.maxLength;
  if (rule === "keep") return (v) => v;
  if (rule === "null") return () => null;
  if (typeof rule === "object" && "fixed" in rule) return (v) => (v === null ? null : rule.fixed);
  if (typeof rule === "object") {
    const hash = (input: string) => ctx.hash(`fn:${rule.name ?? rule.fn.name}`, input);
    return (v) => rule.fn(v, { table: ctx.table, column: col.name, hash });
  }
  switch (rule) {
    case "email": {
      const cc = copycat();
      return (v) => {
        if (v === null) return null;
        const h = ctx.hash("email", v);
        const local = `${slug(cc.firstName(h))}.${slug(cc.lastName(h))}.${h.slice(0, 6)}`;
        const domain = "@example.com";
        if (max === null || local.length + domain.length <= max) return local + domain;
        // too long for the column: hash-only local part (still unique), or the bare hash
        return max > domain.length + 8 ? `${h.slice(0, max - domain.length)}${domain}` : h.slice(0, max);
      };
    }
    case "name": {
      const cc = copycat();
      return (v) => {
        if (v === null) return null;
        const h = ctx.hash("name", v);
        return fit(`${cc.firstName(h)} ${cc.lastName(h)}`, max);
      };
    }
    case "phone": {
      const cc = copycat();
      return (v) => (v === null ? null : fit(cc.phoneNumber(ctx.hash("phone", v)), max));
    }
    case "text":
      return (v) => {
        if (v === null) return null;
        const length = typeof v === "string" ? [...v].length : String(v).length;
        return fit(loremOfLength(ctx.hash("text", v), ctx.hash, Math.max(1, length)), max);
      };
  }
}
