/**
 * Input bytes are exact, end to end against the real database: invalid UTF-8 and a key
 * repeated within a record are refused with the file, record and where, and nothing of the
 * release is committed.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AtomicEtl } from "../../src/atomic-etl.js";
import { failure, nextRelease, sql, STANDARD_TABLES, stateOf, toJsonText, useTestProject } from "../fixtures/core/kit.js";

const { db, ws } = useTestProject();

type Rec = Record<string, unknown>;
const FF_FE = Buffer.from([0xff, 0xfe]);
const MARK = "\u0007BAD\u0007";

/** JSON text of `records` (an array, or NDJSON lines; or `text` itself) with the bytes FF FE where a string holds MARK. */
function withInvalidBytes(
  records: Rec[],
  ndjson: boolean,
  text = ndjson ? `${records.map((r) => toJsonText(r)).join("\n")}\n` : toJsonText(records, 1),
): Buffer {
  const [before, after] = text.split(JSON.stringify(MARK).slice(1, -1));
  return Buffer.concat([Buffer.from(before as string), FF_FE, Buffer.from(after as string)]);
}

async function writeReleaseWith(file: string, content: Buffer | string): Promise<void> {
  const files: Record<string, Rec[]> = nextRelease();
  await ws.writeRelease("r", files);
  await writeFile(path.join(ws.releaseDir("r"), file), content);
}

const run = (tables = STANDARD_TABLES, backup = false) =>
  new AtomicEtl(ws.config({ r: { tables } })).import({ release: "r", url: db.url, backup });

describe("invalid UTF-8 in a release file", () => {
  it.each([
    ["a JSON array", "players.json", false],
    ["NDJSON", "players.ndjson", true],
  ] as const)(
    "should refuse FF FE inside a string in %s with INPUT_MALFORMED naming file, record and byte offset",
    async (_what, file, ndjson) => {
      const players = nextRelease()["players.json"] as Rec[];
      players[3] = { ...players[3], fullName: `Di ${MARK} Forward` };
      const bytes = withInvalidBytes(players, ndjson);
      await writeReleaseWith(file, bytes);
      const before = await stateOf(db.url);

      const f = await failure(run(STANDARD_TABLES.map((t) => (t.model === "Player" ? { ...t, file } : t))));

      expect(f.error).toMatchObject({ code: "INPUT_MALFORMED", file: `releases/r/${file}`, record: 3, step: "load" });
      expect(f.error.meta).toMatchObject({ offset: bytes.indexOf(FF_FE), bytes: "FF" });
      expect(f.error.message).toContain(`invalid UTF-8 at byte ${bytes.indexOf(FF_FE)} (record #3`);
      expect(f.exitCode).toBe(4);
      expect(f.error.data).toBe("rolled back; database unchanged");
      expect(await stateOf(db.url)).toEqual(before);
      // the seed's rows are still there, and no replacement character was written anywhere
      const [n] = await sql<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM players WHERE full_name LIKE '%' || chr(65533) || '%'");
      expect(n?.n).toBe(0);
    },
  );

  it("should refuse FF FE across the reader's 1 MiB chunk boundary of a large file, after earlier batches went in, and roll those back", async () => {
    // ~140-byte player records: the first MiB holds more than one 5,000-row batch
    const at = (1 << 20) - 1; // FF: the last byte of the first chunk; FE: the first of the next
    const player = (id: number, fullName: string) =>
      toJsonText({ id, teamId: 10, fullName, position: "DEFENDER", updatedAt: "2026-01-01T10:00:00Z" });
    // the release's own players first (the other files refer to them), then filler players
    const parts = ["[\n", ...(nextRelease()["players.json"] as Rec[]).map((p) => `${toJsonText(p)},\n`)];
    let size = parts.join("").length;
    let n = 0;
    for (; at - size > 150; n++) {
      const line = `${player(1000 + n, `Player ${n}`)},\n`;
      parts.push(line);
      size += line.length;
    }
    const [head] = player(1000 + n, MARK).split(JSON.stringify(MARK).slice(1, -1));
    const pad = at - size - (head as string).length;
    expect(pad).toBeGreaterThanOrEqual(0);
    expect(pad).toBeLessThan(118);
    parts.push(player(1000 + n, `${"x".repeat(pad)}${MARK}`), "\n]\n");
    const bytes = withInvalidBytes([], false, parts.join(""));
    expect(bytes.indexOf(FF_FE)).toBe(at);
    expect(n).toBeGreaterThan(5000);
    await writeReleaseWith("players.json", bytes);
    const before = await stateOf(db.url);
    let batchesSent = 0;

    const f = await failure(
      new AtomicEtl(ws.config({ r: { tables: STANDARD_TABLES } })).import({
        release: "r",
        url: db.url,
        backup: false,
        hooks: { afterBatch: ({ table }) => void (table === "players" && batchesSent++) },
      }),
    );

    expect(f.error).toMatchObject({ code: "INPUT_MALFORMED", file: "releases/r/players.json", record: n + 6 });
    expect(f.error.meta).toMatchObject({ offset: at, bytes: "FF" });
    expect(batchesSent).toBeGreaterThanOrEqual(1);
    expect(f.error.data).toBe("rolled back; database unchanged");
    expect(await stateOf(db.url)).toEqual(before);
  });
});

describe("a key repeated within a record", () => {
  const repeated = (players: string) => players.replace('"fullName": "Cy Mid"', '"fullName": "Cy Mid", "fullName": "Cy Last"');

  it("should refuse a repeated top-level key with REPEATED_KEY naming file, record and key", async () => {
    await writeReleaseWith("players.json", repeated(toJsonText(nextRelease()["players.json"], 1)));
    const before = await stateOf(db.url);

    const f = await failure(run());

    expect(f.error).toMatchObject({
      code: "REPEATED_KEY",
      file: "releases/r/players.json",
      record: 2,
      field: "fullName",
      table: "players",
    });
    expect(f.error.message).toContain('record #2 repeats the key "fullName"');
    expect(f.error.next).toContain('duplicateKeys: "last-wins"');
    expect(f.exitCode).toBe(4);
    expect(f.error.data).toBe("rolled back; database unchanged");
    expect(await stateOf(db.url)).toEqual(before);
  });

  it("should refuse a key repeated inside a jsonb value, naming its path", async () => {
    const text = toJsonText(nextRelease()["players.json"], 1).replace('"foot": "right"', '"foot": "right", "foot": "left"');
    await writeReleaseWith("players.json", text);
    const before = await stateOf(db.url);

    const f = await failure(run());

    expect(f.error).toMatchObject({ code: "REPEATED_KEY", record: 0, field: "attributes.foot" });
    expect(await stateOf(db.url)).toEqual(before);
  });

  it('should keep the last value with duplicateKeys: "last-wins", top-level and inside json values', async () => {
    const text = repeated(toJsonText(nextRelease()["players.json"], 1)).replace('"foot": "right"', '"foot": "right", "foot": "left"');
    await writeReleaseWith("players.json", text);

    const report = await run(STANDARD_TABLES.map((t) => (t.model === "Player" ? { ...t, duplicateKeys: "last-wins" as const } : t)));

    expect(report.outcome).toBe("committed");
    const rows = await sql<{ id: number; full_name: string; attributes: string | null }>(
      db.url,
      "SELECT id, full_name, attributes::text AS attributes FROM players WHERE id IN (100, 110) ORDER BY id",
    );
    expect(rows).toEqual([
      { id: 100, full_name: "Ada Keeper", attributes: '{"foot": "left"}' },
      { id: 110, full_name: "Cy Last", attributes: null },
    ]);
  });
});
