/**
 * What a failed query tells us, whatever wrapped it: node-postgres' DatabaseError or
 * Prisma's P2010 with a driver-adapter cause.
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
  const cause = (meta?.driverAdapterError as Obj | undefined)?.cause as Obj | undefined;
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
