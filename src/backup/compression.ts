/** How a dump is compressed: what pg_dump is told, and what the manifest records. */
export interface Compression {
  /** `gzip:1` or `zstd:3`, as recorded in the manifest. */
  label: string;
  /** The pg_dump argument. */
  arg: string;
}

// gzip level 1, not pg_dump's default 6: at 1M rows of the example schema the dump took
// 1.9–3.0 s instead of 7.1–7.3 s, for 25 MB instead of 20 MB (pg_dump -Fc of the 1M-row bench
// tables, two runs each; level 0 was no faster than 1 and 3× the size)
const GZIP_LEGACY: Compression = { label: "gzip:1", arg: "--compress=1" };
const GZIP: Compression = { label: "gzip:1", arg: "--compress=gzip:1" };
const ZSTD: Compression = { label: "zstd:3", arg: "--compress=zstd:3" };

/**
 * The compression to ask of a pg_dump of this major version, best first: gzip up to 15
 * (its only method, given as a bare level), zstd from 16, with gzip as the fallback for
 * builds without zstd.
 *
 * @example compressionChoices(15) // => [{ label: "gzip:1", arg: "--compress=1" }]
 */
export function compressionChoices(pgDumpMajor: number): Compression[] {
  return pgDumpMajor >= 16 ? [ZSTD, GZIP] : [GZIP_LEGACY];
}

/**
 * True when pg_dump refused a method its build lacks; the dump is then retried with the
 * next choice.
 *
 * @example lacksCompression("pg_dump: error: this build does not support compression with ZSTD") // => true
 */
export function lacksCompression(stderr: string): boolean {
  return /does not support compression with/i.test(stderr);
}
