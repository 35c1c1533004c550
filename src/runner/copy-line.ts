import { copyLineOf } from "../db/copy-from.js";
import { pgErrorInfo } from "../db/pg-errors.js";
import { EtlError } from "../errors.js";
import type { BatchInsertFailure } from "./load.js";

/**
 * A refused batch that the diagnosis could only name as a range of records (SQL_ERROR), when
 * it went in by COPY: Postgres' `COPY t, line N` names the record itself, so the error is
 * pointed at it. Any other diagnosis (duplicate, orphan, constraint) stands as it is, so the
 * codes are those of the INSERT path.
 */
export function pinToCopyLine(e: EtlError, f: BatchInsertFailure): EtlError {
  if (e.code !== "SQL_ERROR" || f.record === null || e.record === f.record) return e;
  const info = pgErrorInfo(f.cause);
  const line = copyLineOf(f.cause);
  return new EtlError(
    "SQL_ERROR",
    `${f.source.file.file}: Postgres refused record #${f.record} of ${f.source.info.name}: ${info.message}${info.sqlstate ? ` (SQLSTATE ${info.sqlstate})` : ""}`,
    {
      step: e.step,
      table: e.table,
      file: e.file,
      record: f.record,
      cause: f.cause,
      meta: { ...e.meta, copyLine: line },
      next: "fix that record in the release (or what refuses it), then run again",
    },
  );
}
