/**
 * The Prisma boundary. The core never imports a generated client: it needs only the
 * raw-SQL methods, so any Prisma 7 client (with a driver adapter) fits these shapes.
 */
import type { Statement } from "../sql/statement.js";

export interface TxLike {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

export interface TransactionOptions {
  maxWait?: number;
  timeout?: number;
  isolationLevel?: "ReadCommitted" | "RepeatableRead" | "Serializable";
}

/** The model shape Prisma 7 keeps at run time (`client._runtimeDataModel`). */
export interface RuntimeDataModel {
  models: Record<
    string,
    {
      dbName: string | null;
      schema?: string | null;
      fields: ReadonlyArray<{ name: string; kind: string; type: string; dbName?: string | null }>;
    }
  >;
}

export interface PrismaClientLike extends TxLike {
  $transaction<R>(fn: (tx: TxLike) => Promise<R>, options?: TransactionOptions): Promise<R>;
  $disconnect(): Promise<void>;
  /** Prisma's own model metadata; read when present to map fields to columns. */
  _runtimeDataModel?: RuntimeDataModel;
  /** Where a generated client keeps the schema text it embeds (read for the client-side defaults). */
  _engineConfig?: { inlineSchema?: unknown };
}

export async function query<T>(tx: TxLike, s: Statement): Promise<T[]> {
  return tx.$queryRawUnsafe<T[]>(s.text, ...s.values);
}

export async function execute(tx: TxLike, s: Statement): Promise<number> {
  return tx.$executeRawUnsafe(s.text, ...s.values);
}
