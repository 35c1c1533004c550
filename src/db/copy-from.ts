import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { Statement } from "../sql/statement.js";

/**
 * Runs one `COPY … FROM STDIN` on `client` (the transaction's own connection) with `text` as
 * its data, and returns the rows it stored; `onWire` is called once the data is handed to the socket. A refusal rejects with Postgres' error, whose
 * `where` says `COPY t, line N` (see {@link copyLineOf}).
 */
export function copyIn(client: pg.PoolClient, stmt: Statement, text: string, onWire?: () => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = client.query(copyFrom(stmt.text));
    stream.on("error", reject);
    stream.on("finish", () => resolve(stream.rowCount));
    // the data goes out only once the server answered the COPY: `onWire` says when it has
    stream.write(text, () => onWire?.());
    stream.end();
  });
}

/**
 * The 1-based data line a COPY error is about, from its `where` (`COPY t, line 3` or
 * `COPY t, line 3, column c: "…"`, `COPY t, line 3: "…"`), or null when it names none.
 */
export function copyLineOf(e: unknown): number | null {
  const where = (e as { where?: unknown } | null)?.where;
  if (typeof where !== "string") return null;
  const m = /^COPY .*?, line (\d+)(?:[,:]|$)/m.exec(where);
  return m ? Number(m[1]) : null;
}
