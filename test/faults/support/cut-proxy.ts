/**
 * A TCP proxy on 127.0.0.1 (or another loopback address) between a run and PostgreSQL that can cut a connection at the
 * one moment that matters: when the run's COMMIT goes out. It reads the wire protocol
 * (startup packet for application_name; then typed messages) and forwards message by message.
 *
 * @example
 * const proxy = await startCutProxy(url);
 * const cut = proxy.cutNextCommit("drop");   // COMMIT never reaches the server
 * await etl.import({ release: "A", url: proxy.url });
 */
import net from "node:net";

export type CutMode =
  /** The COMMIT is swallowed; both sides are cut: the server rolls back. */
  | "drop"
  /** As "drop", but the client's socket is reset (TCP RST: ECONNRESET, as from a crashing server), not closed. */
  | "reset"
  /** The COMMIT reaches the server; the client is cut once the server has answered (it committed). */
  | "deliver-after-reply"
  /** The COMMIT reaches the server; the client is cut at once, while the server is still committing. */
  | "deliver-and-cut";

export interface CutProxy {
  /** `target` URL with host and port replaced by the proxy's. */
  url: string;
  /** Connections it has accepted so far. */
  readonly accepted: number;
  /** Arms a cut for the next COMMIT of a connection whose application_name matches; resolves when done. */
  cutNextCommit(mode: CutMode, appName?: RegExp): Promise<void>;
  close(): Promise<void>;
}

const isCommit = (type: number, body: Buffer): boolean => {
  // 'Q' simple query, or 'P' parse (statement name, then query text)
  let text: string;
  if (type === 0x51) text = body.toString("utf8", 0, body.indexOf(0));
  else if (type === 0x50) {
    const nameEnd = body.indexOf(0);
    text = body.toString("utf8", nameEnd + 1, body.indexOf(0, nameEnd + 1));
  } else return false;
  return /^\s*(COMMIT|END)\s*;?\s*$/i.test(text);
};

export async function startCutProxy(target: string, host = "127.0.0.1"): Promise<CutProxy> {
  const t = new URL(target);
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let armed: { mode: CutMode; appName: RegExp; done: () => void } | null = null;

  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(Number(t.port), t.hostname);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    let appName = "";
    let startup = true;
    let buf = Buffer.alloc(0);
    let swallowReplies: (() => void) | null = null;
    upstream.on("data", (d: Buffer) => {
      if (swallowReplies) swallowReplies();
      else client.write(d);
    });
    client.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (startup) {
          if (buf.length < 8) return;
          const len = buf.readInt32BE(0);
          if (buf.length < len) return;
          // 8 bytes = SSLRequest / GSSENCRequest: the real startup packet follows
          if (len !== 8) {
            const params = buf.subarray(8, len).toString("utf8").split("\0");
            const i = params.indexOf("application_name");
            if (i >= 0) appName = params[i + 1] ?? "";
            startup = false;
          }
          upstream.write(buf.subarray(0, len));
          buf = buf.subarray(len);
          continue;
        }
        if (buf.length < 5) return;
        const len = buf.readInt32BE(1);
        if (buf.length < len + 1) return;
        const msg = buf.subarray(0, len + 1);
        buf = buf.subarray(len + 1);
        const a = armed;
        if (a && a.appName.test(appName) && isCommit(msg[0] as number, msg.subarray(5))) {
          armed = null;
          if (a.mode === "drop") {
            drop();
          } else if (a.mode === "reset") {
            client.resetAndDestroy();
            upstream.destroy();
          } else if (a.mode === "deliver-and-cut") {
            upstream.end(msg);
            client.destroy();
          } else {
            upstream.write(msg);
            swallowReplies = () => {
              swallowReplies = () => undefined;
              client.destroy();
              upstream.end();
            };
          }
          a.done();
          return;
        }
        upstream.write(msg);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const u = new URL(target);
  u.hostname = host;
  u.port = String(port);
  return {
    url: u.toString(),
    get accepted() {
      return accepted;
    },
    cutNextCommit(mode, appName = /^atomic-etl:[0-9a-f]{8}$/) {
      return new Promise<void>((resolve) => {
        armed = { mode, appName, done: resolve };
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
