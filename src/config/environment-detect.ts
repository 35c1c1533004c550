import { z } from "zod";
import { environmentNameSchema } from "./environments.js";

/**
 * One detection rule of the config's `detect`: when the platform variable is set (to one of
 * `equals`, if given), the run is in environment `env` — or in a stricter one it was told.
 *
 * @example { variable: "RAILWAY_ENVIRONMENT_NAME", equals: "staging", env: "railway_staging" }
 */
export const detectRuleSchema = z.strictObject({
  /** The variable the platform sets, e.g. `RAILWAY_ENVIRONMENT_NAME`, `VERCEL_ENV`, `NODE_ENV`. */
  variable: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name"),
  /** The value(s) that match, exactly; absent: any non-empty value. */
  equals: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  /** The environment a match means (a built-in or one of `environments`). */
  env: environmentNameSchema,
});
export type DetectRule = z.infer<typeof detectRuleSchema>;

/**
 * The rules used when the config has no `detect`: the platforms' own production and preview
 * markers. `NODE_ENV` is left out on purpose: images and builds set it to `production` on
 * machines that are not production's; add a rule for it where it does mean production.
 */
export const DEFAULT_DETECT_RULES: DetectRule[] = [
  { variable: "VERCEL_ENV", equals: "production", env: "production" },
  { variable: "VERCEL_ENV", equals: "preview", env: "staging" },
  { variable: "RAILWAY_ENVIRONMENT_NAME", equals: "production", env: "production" },
];

/** What detection found: the environment, and the rule and value that said so. */
export interface Detection {
  env: string;
  variable: string;
  /** The value that matched the rule's `equals`; null for a rule without one (the value could be anything, a secret too, so it is never kept). */
  value: string | null;
}

/**
 * The strictest environment any rule matches (ties: the first rule listed), or null. Every
 * rule is checked, so a looser match listed first can never hide a stricter one.
 *
 * @example detectEnvironment(rules, process.env, (name) => rankOf(name))
 */
export function detectEnvironment(rules: readonly DetectRule[], env: NodeJS.ProcessEnv, rank: (name: string) => number): Detection | null {
  let best: Detection | null = null;
  for (const rule of rules) {
    const value = env[rule.variable];
    if (value === undefined || value === "") continue;
    const wanted = rule.equals === undefined ? null : Array.isArray(rule.equals) ? rule.equals : [rule.equals];
    if (wanted && !wanted.includes(value)) continue;
    if (!best || rank(rule.env) > rank(best.env)) best = { env: rule.env, variable: rule.variable, value: wanted ? value : null };
  }
  return best;
}
