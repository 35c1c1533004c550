import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/errors.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const table = readme.slice(readme.indexOf("## Exit codes"), readme.indexOf("## Benchmarks"));

describe("README", () => {
  it("should list every error code under its exit code in the exit-code table", () => {
    const rows = new Map(
      table
        .split("\n")
        .map((l) => /^\| (\d+) \| (.*) \|$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [Number(m[1]), m[2] as string]),
    );
    const missing = Object.entries(ERROR_CODES).filter(([code, exit]) => !new RegExp(`\`${code}\``).test(rows.get(exit) ?? ""));
    expect(missing).toEqual([]);
  });

  it("should show the two set-up commands and the test command", () => {
    expect(readme).toContain("npm install\nnpm run demo");
    expect(readme).toContain("npm test");
  });
});
