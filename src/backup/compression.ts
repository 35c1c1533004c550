/** How a dump is compressed: what pg_dump is told, and what the manifest records. */
export interface Compression {
  /** `gzip:6` or `zstd:3`, as recorded in the manifest. */
  label: string;
  /** The pg_dump argument. */
  arg: string;
}

const GZIP_LEGACY: Compression = { label: "gzip:6", arg: "--compress=6" };
const GZIP: Compression = { label: "gzip:6", arg: "--compress=gzip:6" };
const ZSTD: Compression = { label: "zstd:3", arg: "--compress=zstd:3" };

/**
 * The compression to ask of a pg_dump of this major version, best first: gzip up to 15
 * (its only method, given as a bare level), zstd from 16, with gzip as the fallback for
 * builds without zstd.
 *
 * @example compressionChoices(15) // => [{ label: "gzip:6", arg: "--compress=6" }]
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
