import { randomBytes, randomInt } from "node:crypto";
import os from "node:os";

const BASE = 36;
const BLOCK = 4;
const DISCRETE = BASE ** BLOCK;
const pad = (s: string, size: number) => s.padStart(size, "0").slice(-size);

let counter = 0;
let print: string | null = null;

/** pid and hostname, two base-36 characters each, as cuid v1 prints its machine. */
function fingerprint(): string {
  if (print) return print;
  const host = os.hostname();
  const hostId = [...host].reduce((sum, ch) => sum + ch.charCodeAt(0), host.length + BASE);
  print = pad(process.pid.toString(BASE), 2) + pad(hostId.toString(BASE), 2);
  return print;
}

/**
 * A cuid v1, what Prisma's `@default(cuid())` generates (Prisma uses @bugsnag/cuid, not a
 * dependency here): `c`, the time in ms, a counter, the machine's fingerprint and 8 random
 * characters, all base 36 — 25 characters. The random blocks come from node:crypto.
 *
 * @example cuid1() // "clz3x0b8k0000qz1h6d9w2m4f"
 */
export function cuid1(): string {
  counter = counter < DISCRETE ? counter : 0;
  const count = pad((counter++).toString(BASE), BLOCK);
  const random = pad(randomInt(DISCRETE).toString(BASE), BLOCK) + pad(randomInt(DISCRETE).toString(BASE), BLOCK);
  return `c${Date.now().toString(BASE)}${count}${fingerprint()}${random}`;
}

let lastMs = -1;
let sequence = 0;

/**
 * A UUID version 7 (RFC 9562, section 5.7), what Prisma's `@default(uuid(7))` generates: 48
 * bits of Unix time in ms, version 7, a 12-bit counter (`rand_a`, method 1 of section 6.2:
 * seeded at random each millisecond, so ids made in one millisecond still sort in order;
 * on overflow the time moves on by 1 ms), the variant, and 62 random bits.
 *
 * @example uuidv7() // "01932c07-8f1a-7cc5-9b2e-3f4a5d6e7f80"
 */
export function uuidv7(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    sequence = randomInt(0x800); // the lower half, so the counter has room to count
  } else if (++sequence > 0xfff) {
    lastMs++;
    sequence = randomInt(0x800);
  }
  const b = randomBytes(16);
  b.writeUIntBE(lastMs, 0, 6);
  b[6] = 0x70 | (sequence >> 8);
  b[7] = sequence & 0xff;
  b[8] = 0x80 | ((b[8] as number) & 0x3f);
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
