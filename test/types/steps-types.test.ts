import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../fixtures/core/kit.js";

describe("the types of steps", () => {
  it("should type every step's tx as the user's own Prisma transaction client, with no annotation (tsc --noEmit on a fixture project)", async () => {
    // each @ts-expect-error in the fixture must be an error: a wrong field, a wrong value type, an unknown model
    const r = await execa("npx", ["tsc", "-p", "test/types/fixture/tsconfig.json", "--noEmit"], { cwd: REPO_ROOT, reject: false });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
  }, 600_000);
});
