/**
 * Every failure atomic-etl reports is an {@link EtlError}: a stable UPPER_SNAKE `code`,
 * the `step` it failed in, where in the input it happened, what happened to the data,
 * and what to run next.
 *
 * @example
 * try { await etl.run() } catch (e) { if (e instanceof EtlError && e.code === 'VALIDATION_FAILED') … }
 */
export type Step =
  | "config"
  | "preflight"
  | "lock"
  | "backup"
  | "clear"
  | "load"
  | "step"
  | "validate"
  | "apply"
  | "diff"
  | "ledger"
  | "commit"
  | "rollback"
  | "verify"
  | "restore"
  | "snapshot"
  | "select"
  | "write";

/**
 * What happened to the target data. `rolled back; concurrent changes kept`: the run's
 * transaction was rolled back (confirmed by the server), but other sessions changed the
 * targets meanwhile; their committed writes are kept, never restored over.
 */
export type DataOutcome =
  "untouched" | "rolled back; database unchanged" | "rolled back; concurrent changes kept" | "committed" | "unknown";

/** Every stable error code, with the process exit code the CLI uses for it. */
export const ERROR_CODES = {
  CONFIG_INVALID: 2,
  CONFIG_NOT_FOUND: 2,
  USAGE: 2,
  UNKNOWN_ENVIRONMENT: 2,
  UNKNOWN_RELEASE: 2,
  PRODUCTION_REQUIRES_FORCE: 2,
  NO_BACKUP_FORBIDDEN: 2,
  DATABASE_URL_MISSING: 2,
  ENVIRONMENT_REQUIRED: 2,
  /** `--env`/`ETL_ENV` names a less strict environment than the config's `detect` rules found. */
  ENVIRONMENT_LOOSER_THAN_DETECTED: 2,
  /** On a terminal, the name typed to confirm a production run was not the database's. */
  CONFIRMATION_REFUSED: 2,
  INPUT_MISSING: 3,
  INPUT_UNREADABLE: 3,
  INPUT_MALFORMED: 4,
  UNKNOWN_KEY: 4,
  AMBIGUOUS_KEYS: 4,
  VALIDATION_FAILED: 4,
  REPEATED_KEY: 4,
  /** A table's `transform` threw on a record: names the file and the record. */
  TRANSFORM_FAILED: 4,
  DUPLICATE_KEY: 5,
  FK_VIOLATION: 5,
  ROW_COUNT_MISMATCH: 5,
  CHECK_FAILED: 5,
  CONSTRAINT_VIOLATION: 5,
  EMPTY_FILE_REFUSED: 5,
  DELETE_LIMIT_EXCEEDED: 5,
  /** A release step (or `etl.run`'s) threw: names the step, carries its message and cause. */
  STEP_FAILED: 5,
  /** A step wrote a table it did not declare in `writes` (outside the backup and the proof): named, rolled back. */
  UNDECLARED_WRITE: 5,
  CATALOG_MISMATCH: 6,
  FK_CYCLE: 6,
  STRATEGY_REFUSED: 6,
  STAGING_UNAVAILABLE: 6,
  DATABASE_MISMATCH: 6,
  LEDGER_UNAVAILABLE: 6,
  LOCK_HELD: 7,
  LOCK_TIMEOUT: 7,
  LOCK_LOST: 7,
  STATEMENT_TIMEOUT: 8,
  TRANSACTION_TIMEOUT: 8,
  CONNECTION_LOST: 9,
  BACKUP_FAILED: 10,
  BACKUP_CLIENT_TOO_OLD: 10,
  BACKUP_VERIFY_FAILED: 10,
  BACKUP_NOT_FOUND: 10,
  RESTORE_FAILED: 11,
  RESTORE_SCHEMA_MISMATCH: 11,
  RESTORE_VERIFY_FAILED: 11,
  /** The backup is of another database (identity differs); `--into-other-database` restores it on purpose. */
  BACKUP_WRONG_DATABASE: 11,
  /** A format-1 backup records no database identity: it cannot be proven to be this database's. */
  BACKUP_IDENTITY_UNKNOWN: 11,
  /** Rows of tables outside the backup would lose their parent: named, rolled back. */
  RESTORE_WOULD_ORPHAN: 11,
  /** The restore must drop and re-add an FK on a table the current role may not alter. */
  RESTORE_NOT_OWNER: 11,
  ROLLBACK_NOT_PROVEN: 12,
  COMMIT_IN_DOUBT: 13,
  CONNECTION_FAILED: 14,
  AUTH_FAILED: 15,
  DATABASE_NOT_FOUND: 16,
  URL_INVALID: 17,
  PLAN_MISMATCH: 18,
  INTERRUPTED: 130,
  TERMINATED: 143,
  HOOK_FAILED: 5,
  SQL_ERROR: 5,
  INTERNAL: 1,
  // export / sample (src/sample, src/commands/sample.ts)
  UNKNOWN_SAMPLE: 2,
  UNKNOWN_TABLE: 2,
  UNKNOWN_COLUMN: 2,
  OUTPUT_EXISTS: 2,
  MASK_SECRET_MISSING: 2,
  MASK_INVALID: 2,
  MASK_COLLISION: 5,
  CLOSURE_BROKEN: 5,
  SAMPLE_CYCLE: 6,
  SAMPLE_UNSUPPORTED: 6,
  SOURCE_PERMISSION_DENIED: 6,
  SOURCE_UNREACHABLE: 9,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface EtlErrorDetails {
  /** The run the error belongs to. */
  runId?: string;
  step?: Step;
  table?: string;
  file?: string;
  /** 0-based index of the record in its file. */
  record?: number;
  field?: string;
  data?: DataOutcome;
  /** The next command or action that a person should take. */
  next?: string;
  cause?: unknown;
  /** Extra structured facts (Postgres code, detail, hint, blocking pids …). */
  meta?: Record<string, unknown>;
}

/**
 * The base error. Postgres `code`, `detail` and `hint` stay reachable through `meta`
 * and `cause`.
 */
export class EtlError extends Error {
  override readonly name = "EtlError";
  readonly code: ErrorCode;
  readonly runId: string | undefined;
  readonly step: Step | undefined;
  readonly table: string | undefined;
  readonly file: string | undefined;
  readonly record: number | undefined;
  readonly field: string | undefined;
  readonly data: DataOutcome;
  readonly next: string | undefined;
  readonly meta: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: EtlErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.runId = details.runId;
    this.step = details.step;
    this.table = details.table;
    this.file = details.file;
    this.record = details.record;
    this.field = details.field;
    this.data = details.data ?? "untouched";
    this.next = details.next;
    this.meta = details.meta ?? {};
  }

  /** Everything this error says, as details (to build a completed copy with {@link with}). */
  details(): EtlErrorDetails {
    return {
      runId: this.runId,
      step: this.step,
      table: this.table,
      file: this.file,
      record: this.record,
      field: this.field,
      data: this.data,
      next: this.next,
      cause: this.cause,
      meta: this.meta,
    };
  }

  /**
   * The same error, completed: what the run learned after it was raised (the run id, what
   * happened to the data, the next step). Errors are never patched in place.
   *
   * @example throw e.with({ runId, data: "rolled back; database unchanged" })
   */
  with(more: EtlErrorDetails): EtlError {
    return new EtlError(this.code, this.message, { ...this.details(), ...more, meta: { ...this.meta, ...more.meta } });
  }

  /** The CLI exit code for this error. */
  get exitCode(): number {
    return ERROR_CODES[this.code];
  }

  /** One paragraph for people: where, why, what happened to the data, what next. */
  describe(): string {
    const where = [
      this.file && `file ${this.file}`,
      this.record !== undefined && `record #${this.record}`,
      this.field && `field "${this.field}"`,
      this.table && !this.file && `table ${this.table}`,
    ]
      .filter(Boolean)
      .join(", ");
    const lines = [`${this.code}${this.step ? ` in ${this.step}` : ""}: ${this.message}`];
    if (where) lines.push(`  where: ${where}`);
    lines.push(`  data:  ${this.data}`);
    if (this.next) lines.push(`  next:  ${this.next}`);
    if (this.runId) lines.push(`  run:   ${this.runId}`);
    return lines.join("\n");
  }

  toJSON(): Record<string, unknown> {
    const { cause: _cause, meta, ...rest } = this.details();
    return { code: this.code, message: this.message, ...rest, meta: Object.keys(meta ?? {}).length ? meta : undefined };
  }
}

/** Raised by config loading; carries every problem found, not just the first. */
export class ConfigError extends EtlError {
  readonly issues: string[];
  constructor(issues: string[], details: EtlErrorDetails = {}) {
    super("CONFIG_INVALID", `invalid config:\n  - ${issues.join("\n  - ")}`, {
      step: "config",
      ...details,
    });
    this.issues = issues;
  }
}
