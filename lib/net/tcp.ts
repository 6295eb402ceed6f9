/**
 * TCP pieces written once: listening and connecting with one-line errors,
 * reading whole lines with a length limit, reading the lecture's unframed
 * messages, and writing every byte.
 *
 * @example
 * ```ts
 * import { listenTcp, readLines } from "./tcp.ts";
 * const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
 * listener.close();
 * ```
 * @module
 */
import { FailError } from "../cli/errors.ts";
import { formatHostPort, type HostPort } from "./address.ts";
import { type Frame, LineFramer } from "./framing.ts";
import { reason } from "./udp.ts";

/** Listens on `addr`; a busy port becomes one FailError line. */
export function listenTcp(addr: HostPort): Deno.TcpListener {
  try {
    return Deno.listen({ transport: "tcp", hostname: addr.hostname, port: addr.port });
  } catch (err) {
    throw new FailError(
      `cannot listen on TCP ${formatHostPort(addr.hostname, addr.port)}: ${reason(err)}`,
    );
  }
}

/** Connects to `addr`; refusal or an unreachable host becomes one FailError line. */
export async function connectTcp(addr: HostPort, label?: string): Promise<Deno.TcpConn> {
  try {
    return await Deno.connect({ transport: "tcp", hostname: addr.hostname, port: addr.port });
  } catch (err) {
    throw new FailError(
      `cannot connect to ${label ?? formatHostPort(addr.hostname, addr.port)}: ${reason(err)}`,
    );
  }
}

/** Options of {@linkcode readLines}. */
export interface ReadLinesOptions {
  /** Longest line accepted (default 64 KiB); longer ones yield an overflow frame. */
  maxLine?: number;
  /** Size of the read buffer (default 4 KiB: small, since idle clients hold one). */
  bufferSize?: number;
}

/**
 * Yields the frames read from `conn` until EOF or a reset (a reset ends the
 * stream like EOF: the peer is gone either way). The unterminated tail is
 * yielded as a last line.
 */
export async function* readLines(
  conn: Deno.Conn,
  options: ReadLinesOptions = {},
): AsyncGenerator<Frame> {
  const framer = new LineFramer({ maxLine: options.maxLine });
  const buf = new Uint8Array(options.bufferSize ?? 4096);
  for (let n; (n = await readSome(conn, buf)) !== null;) yield* framer.push(buf.subarray(0, n));
  const last = framer.end();
  if (last) yield last;
}

/**
 * One read into `buf`: the byte count, or `null` at EOF and when the peer or
 * the socket is gone (a reset ends a stream like EOF). Other errors throw.
 */
export async function readSome(
  conn: { read(p: Uint8Array): Promise<number | null> },
  buf: Uint8Array,
): Promise<number | null> {
  try {
    return await conn.read(buf);
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/** Writes every byte of `data` (Deno's write may be partial). */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** True for errors that mean the peer or the socket is gone (reset, closed, broken pipe). */
export function isGone(err: unknown): boolean {
  return err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.ConnectionAborted ||
    err instanceof Deno.errors.BadResource ||
    err instanceof Deno.errors.NotConnected ||
    err instanceof Deno.errors.Interrupted;
}

/** Closes `conn`, ignoring "already closed". */
export function closeQuietly(conn: { close(): void }): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
