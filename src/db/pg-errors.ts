import { EtlError, type Step } from "../errors.js";

/**
 * What a failed query tells us, whatever wrapped it: node-postgres' DatabaseError,
 * Prisma's P2010 with a driver-adapter cause, or a bare DriverAdapterError.
 */
export interface PgErrorInfo {
  /** SQLSTATE, e.g. 23505. */
  sqlstate?: string;
  message: string;
  constraint?: string;
  table?: string;
  /** The column of a NOT NULL violation. */
  column?: string;
  detail?: string;
  hint?: string;
  /** Prisma error code (P2010, P2028 …). */
  prismaCode?: string;
  /** Driver-adapter error kind (UniqueConstraintViolation …). */
  kind?: string;
}

type Obj = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" ? v : undefined);

export function pgErrorInfo(e: unknown): PgErrorInfo {
  const err = (e ?? {}) as Obj;
  const info: PgErrorInfo = { message: str(err.message) ?? String(e) };
  const prismaCode = str(err.code);
  if (prismaCode?.startsWith("P")) info.prismaCode = prismaCode;
  const meta = err.meta as Obj | undefined;
  // wrapped by Prisma (meta.driverAdapterError), or the adapter's own error as it stands (a COMMIT
  // over a reset socket throws it bare: message "ConnectionClosed", the kind in its cause)
  const adapterError = (meta?.driverAdapterError as Obj | undefined) ?? (err.name === "DriverAdapterError" ? err : undefined);
  const cause = adapterError?.cause as Obj | undefined;
  if (cause) {
    info.kind = str(cause.kind);
    info.sqlstate = str(cause.originalCode) ?? str(cause.code);
    info.message = str(cause.originalMessage) ?? str(cause.message) ?? info.message;
    info.detail = str(cause.detail);
    info.hint = str(cause.hint);
    info.table = str(cause.table);
    info.column = str(cause.column);
    const c = cause.constraint as Obj | undefined;
    info.constraint = str(c?.index);
    return info;
  }
  // node-postgres DatabaseError
  if (typeof err.code === "string" && /^[0-9A-Z]{5}$/.test(err.code) && typeof err.severity === "string") {
    info.sqlstate = err.code;
    info.detail = str(err.detail);
    info.hint = str(err.hint);
    info.constraint = str(err.constraint);
    info.table = str(err.table);
    info.column = str(err.column);
  }
  return info;
}

const CONNECTION_STATES = new Set(["57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"]);

/** True when the connection or server went away (the transaction was not committed, unless COMMIT was in flight). */
export function isConnectionLoss(e: unknown): boolean {
  const i = pgErrorInfo(e);
  if (i.sqlstate && CONNECTION_STATES.has(i.sqlstate)) return true;
  if (i.prismaCode && ["P1001", "P1002", "P1017", "P2024"].includes(i.prismaCode)) return true;
  if (i.kind && ["ConnectionClosed", "SocketTimeout", "DatabaseNotReachable"].includes(i.kind)) return true;
  // "not queryable": node-postgres refusing a client whose connection already broke
  return /Connection terminated|ECONNRESET|ECONNREFUSED|server closed the connection|Connection ended|terminating connection|connection error and is not queryable|EPIPE/i.test(
    i.message,
  );
}

/** A failure to open a connection at all: what it means for the person running the tool. */
export interface ConnectFailure {
  code: "AUTH_FAILED" | "DATABASE_NOT_FOUND" | "CONNECTION_FAILED";
  why: string;
  next: string;
}

/**
 * Classifies the error of a first connection (before anything ran on it): the wrong
 * password or none at all, a database that does not exist, a server that cannot be reached.
 * Null for anything else.
 */
export function connectFailure(e: unknown): ConnectFailure | null {
  const i = pgErrorInfo(e);
  const code = (e as { code?: unknown })?.code;
  if (i.sqlstate === "28P01" || i.sqlstate === "28000")
    return {
      code: "AUTH_FAILED",
      why: i.message,
      next: "check the user and password of the URL (or PGPASSWORD, ~/.pgpass) and pg_hba.conf",
    };
  if (/client password must be a string|no password supplied/i.test(i.message))
    return {
      code: "AUTH_FAILED",
      why: "the server asks for a password and none was given",
      next: "put the password in the URL, PGPASSWORD or ~/.pgpass",
    };
  if (i.sqlstate === "3D000")
    return { code: "DATABASE_NOT_FOUND", why: i.message, next: "create the database, or fix its name in the URL" };
  const network = ["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"];
  if (
    (typeof code === "string" && network.includes(code)) ||
    /timeout expired|connection timeout/i.test(i.message) ||
    i.prismaCode === "P1001" ||
    i.kind === "DatabaseNotReachable"
  )
    return {
      code: "CONNECTION_FAILED",
      why: i.message,
      next: "check that the server is running and that the URL's host and port are right",
    };
  return null;
}

/**
 * The error of a first connection that failed (see {@link connectFailure}), naming `where` it
 * tried (host, port, user, database; never the password); null for any other error.
 */
export function connectError(
  e: unknown,
  where = "the database",
  extra: { step?: Step; meta?: Record<string, unknown> } = {},
): EtlError | null {
  const first = connectFailure(e);
  return first ? new EtlError(first.code, `cannot connect to ${where}: ${first.why}`, { ...extra, cause: e, next: first.next }) : null;
}
