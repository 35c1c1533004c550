import { describe, expect, it } from "vitest";
import { compressionChoices, lacksCompression } from "../../src/backup/compression.js";

describe("compressionChoices", () => {
  it("should use gzip, given as a bare level, up to pg_dump 15", () => {
    expect(compressionChoices(12)).toEqual([{ label: "gzip:1", arg: "--compress=1" }]);
    expect(compressionChoices(15)).toEqual([{ label: "gzip:1", arg: "--compress=1" }]);
  });

  it("should prefer zstd from pg_dump 16, with gzip as the fallback", () => {
    expect(compressionChoices(16)).toEqual([
      { label: "zstd:3", arg: "--compress=zstd:3" },
      { label: "gzip:1", arg: "--compress=gzip:1" },
    ]);
    expect(compressionChoices(17).map((c) => c.label)).toEqual(["zstd:3", "gzip:1"]);
  });
});

describe("lacksCompression", () => {
  it("should recognise pg_dump's message for a method its build lacks", () => {
    expect(lacksCompression("pg_dump: error: invalid compression specification: this build does not support compression with ZSTD")).toBe(
      true,
    );
    expect(lacksCompression("pg_dump: error: connection to server failed")).toBe(false);
  });
});
