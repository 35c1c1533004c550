/**
 * The published package works on its own, set up exactly as the README's "Use it in your own
 * Prisma project" says: build, `npm pack`, install the tarball into a fresh project, then write
 * every file of that section (`<!-- pack: <path> -->` before a code block) and run every
 * command of it (`<!-- pack: run -->`) as written, through `sh`, ending with the first
 * `npx atomic-etl import`.
 *
 * One step differs from the README, for time and to stay offline: Prisma itself
 * (`@prisma/client`, `@prisma/adapter-pg`, `prisma`) is linked from this repository's
 * node_modules instead of installed from the registry; the tarball's own dependencies are
 * installed by npm (from its cache when it has them).
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveClientTool } from "../../src/backup/pg-tools.js";
import { REPO_ROOT, sql, useTestDatabase } from "../fixtures/core/kit.js";

let tmp: string;
let project: string;
const db = useTestDatabase({ migrate: false, scope: "suite" });
let psqlDir: string;

/** The README section's files (path → content) and commands, in order. */
interface Section {
  files: [string, string][];
  commands: string[];
}

async function readmeSection(): Promise<Section> {
  const readme = await readFile(path.join(REPO_ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Use it in your own Prisma project");
  const end = readme.indexOf("\n## ", start + 1);
  const text = readme.slice(start, end);
  const out: Section = { files: [], commands: [] };
  for (const m of text.matchAll(/<!-- pack: (\S+) -->\n```[a-z]*\n([\s\S]*?)```/g)) {
    const [, target, body] = m as unknown as [string, string, string];
    if (target === "run") out.commands.push(...body.split("\n").filter((l) => l.trim()));
    else out.files.push([target, body]);
  }
  return out;
}

function env(): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== "ETL_ENV" && !k.startsWith("npm_")),
  ) as Record<string, string>;
  return {
    ...base,
    PATH: `${psqlDir}${path.delimiter}${base.PATH ?? ""}`,
    DATABASE_URL: db.url,
    PRISMA_SCHEMA_ENGINE_BINARY: "/bin/true",
  };
}

/** A README command line, as a user's shell runs it in the project. */
const shell = (line: string) => execa("sh", ["-c", line], { cwd: project, env: env(), reject: false, extendEnv: false });

let section: Section;
const ran: { line: string; exitCode: number | undefined; stdout: string; stderr: string }[] = [];

beforeAll(async () => {
  section = await readmeSection();
  tmp = await mkdtemp(path.join(os.tmpdir(), "atomic-etl-pack-"));
  project = path.join(tmp, "consumer");
  psqlDir = path.dirname((await resolveClientTool("psql")).path);

  // 1. Install: npm run build && npm pack in the clone, npm install <tarball> in the project
  await execa("npm", ["run", "build"], { cwd: REPO_ROOT, env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: "/bin/true" } });
  const packed = await execa("npm", ["pack", "--json", "--pack-destination", tmp], { cwd: REPO_ROOT });
  const [info] = JSON.parse(packed.stdout) as { filename: string }[];
  if (!info) throw new Error(`npm pack printed no file: ${packed.stdout}`);
  await mkdir(project, { recursive: true });
  await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "pack-consumer", private: true, type: "module" }, null, 2));
  await execa("npm", ["install", path.join(tmp, info.filename), "--prefer-offline", "--legacy-peer-deps", "--no-audit", "--no-fund"], {
    cwd: project,
    env: env(),
  });
  // Prisma linked, not installed (see above); its bin as npm would link it
  await mkdir(path.join(project, "node_modules", "@prisma"), { recursive: true });
  for (const p of ["@prisma/client", "@prisma/adapter-pg", "prisma"]) {
    await symlink(path.join(REPO_ROOT, "node_modules", p), path.join(project, "node_modules", p), "dir");
  }
  await symlink("../prisma/build/index.js", path.join(project, "node_modules", ".bin", "prisma"));

  // 2.–6. every file and command of the section, in order
  for (const [file, content] of section.files) {
    await mkdir(path.dirname(path.join(project, file)), { recursive: true });
    await writeFile(path.join(project, file), content);
  }
  for (const line of section.commands) {
    const r = await shell(line);
    ran.push({ line, exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) });
    if (r.exitCode !== 0) break;
  }
}, 900_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("npm pack, set up as the README says", () => {
  it("should find the README's files and commands, the config importing z from zod", () => {
    expect(section.files.map(([f]) => f)).toEqual(
      expect.arrayContaining(["prisma/schema.prisma", "etl/etl.config.ts", "etl/releases/countries-2026/countries.json"]),
    );
    const config = section.files.find(([f]) => f === "etl/etl.config.ts")?.[1] ?? "";
    expect(config).toContain('import { z } from "zod";');
    expect(section.commands.at(-1)).toBe("npx atomic-etl import countries-2026");
  });

  it("should pack only the build output, with the bin and the types", async () => {
    const pkg = JSON.parse(await readFile(path.join(project, "node_modules", "atomic-etl", "package.json"), "utf8")) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin["atomic-etl"]).toBe("./dist/cli/main.js");
    const files = await readdir(path.join(project, "node_modules", "atomic-etl"));
    expect(files).not.toContain("src");
    expect(files).not.toContain("test");
    const dist = await readdir(path.join(project, "node_modules", "atomic-etl", "dist"));
    expect(dist).toEqual(expect.arrayContaining(["index.js", "index.d.ts", "cli"]));
  });

  it("should run every command of the README section with exit 0, the first import committing the release's rows", async () => {
    for (const r of ran) expect({ line: r.line, exitCode: r.exitCode }, r.stderr.slice(-3000)).toEqual({ line: r.line, exitCode: 0 });
    expect(ran.map((r) => r.line)).toEqual(section.commands);
    const last = ran.at(-1);
    expect(last?.stderr).not.toContain('"level":50');
    expect(`${last?.stdout}\n${last?.stderr}`).toContain("committed");
    expect(await sql(db.url, "SELECT code, name FROM countries ORDER BY code")).toEqual([
      { code: "BR", name: "Brasil" },
      { code: "JP", name: "日本" },
      { code: "NL", name: "Netherlands" },
    ]);
    const backups = await readdir(path.join(project, "etl", "backups"));
    expect(backups.filter((f) => f.endsWith(".dump"))).toHaveLength(1);
  });

  it("should print the package's version and the help through npx", async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    expect(await shell("npx atomic-etl --version")).toMatchObject({ exitCode: 0, stdout: pkg.version });
    const help = await shell("npx atomic-etl --help");
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("import [options] <release>");
  }, 120_000);

  it("should refuse a record the config's zod schema rejects with exit 4, leaving the rows as they were", async () => {
    const before = await sql(db.url, "SELECT code, name FROM countries ORDER BY code");
    const file = path.join(project, "etl", "releases", "countries-2026", "countries.json");
    const good = await readFile(file, "utf8");
    await writeFile(file, JSON.stringify([...(JSON.parse(good) as object[]), { code: "us", name: "lower case" }]));
    try {
      const r = await shell("npx atomic-etl import countries-2026 --no-backup");
      expect(r.exitCode).toBe(4);
      expect(r.stderr).toContain("VALIDATION_FAILED");
      expect(r.stderr).toContain("record #3");
      expect(await sql(db.url, "SELECT code, name FROM countries ORDER BY code")).toEqual(before);
    } finally {
      await writeFile(file, good);
    }
    expect(existsSync(path.join(project, "etl", "backups"))).toBe(true);
  }, 120_000);
});
