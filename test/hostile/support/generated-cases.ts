/**
 * Hostile inputs too big to keep in the repository, written at test time: a 400,000-line
 * NDJSON file broken on its last-but-ten line, a 10 MB string for a varchar(50), and a
 * JSON value nested 100,000 levels deep.
 */
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { once } from "node:events";
import type { HostileCase } from "./hostile-kit.js";

export interface GeneratedCase extends HostileCase {
  write(file: string): Promise<void>;
}

export const BROKEN_LINE = 400_000;

async function writeBrokenNdjson(file: string): Promise<void> {
  const out = createWriteStream(file);
  let chunk = "";
  for (let line = 1; line <= BROKEN_LINE + 10; line++) {
    chunk +=
      line === BROKEN_LINE ? `{"id": ${line}, "label": "cut off here\n` : `{"id": ${line}, "label": "note ${line}", "qty": ${line % 97}}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, "drain");
      chunk = "";
    }
  }
  out.end(chunk);
  await once(out, "finish");
}

export const GENERATED_CASES: GeneratedCase[] = [
  {
    id: "ndjson-broken-line-400000",
    about: "an NDJSON file whose line 400,000 is cut off",
    target: "hostile_notes",
    ext: ".ndjson",
    expect: { code: "INPUT_MALFORMED", message: `line ${BROKEN_LINE}`, record: BROKEN_LINE - 1, field: null, namesFile: true, exit: 4 },
    write: writeBrokenNdjson,
  },
  {
    id: "ten-megabyte-string",
    about: "a 10 MB string for a varchar(50)",
    target: "hostile_notes",
    expect: {
      code: "VALIDATION_FAILED",
      message: "is 10485760 characters long; the column allows 50",
      record: 1,
      field: "label",
      namesFile: true,
      exit: 4,
    },
    write: (file) => writeFile(file, `[{"id": 1, "label": "ok"},\n{"id": 2, "label": "${"x".repeat(10 * 1024 * 1024)}"}]\n`),
  },
  {
    id: "deeply-nested-json-value",
    about: "a json value nested 100,000 levels deep",
    target: "players",
    expect: {
      code: "VALIDATION_FAILED",
      message: "is nested more than 1000 levels deep",
      record: 0,
      field: "attributes",
      namesFile: true,
      exit: 4,
    },
    write: (file) =>
      writeFile(
        file,
        `[{"id": 100000, "teamId": 1000, "fullName": "Deep", "position": "FORWARD", "updatedAt": "2026-01-01T10:00:00Z", "attributes": ${"[".repeat(100_000)}${"]".repeat(100_000)}}]\n`,
      ),
  },
];
