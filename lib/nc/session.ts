/**
 * nc's copy loops: one connected TCP socket (or one UDP peer) against an
 * Input and an Output, both directions at once. The TCP loop reads the next
 * input chunk while the previous one is being sent, writes every byte before
 * reusing a buffer, and half-closes at end of input.
 *
 * @example
 * ```ts ignore
 * import { runTcpSession } from "./session.ts";
 * const r = await runTcpSession(conn, { input, output, shutdownOnEof: true, idleMs: null, signal });
 * console.error(r.sent, r.received, r.end);
 * ```
 * @module
 */
import { FailError } from "../cli/errors.ts";
import { formatAddr } from "../net/address.ts";
import { closeQuietly, isGone, writeAll } from "../net/tcp.ts";
import { reason as errorReason } from "../net/udp.ts";
import { BUFFER_SIZE, IdleTimer, type Input, type Output } from "./stdio.ts";

/** Options of {@linkcode runTcpSession} and {@linkcode runUdpSession}. */
export interface SessionOptions {
  input: Input;
  output: Output;
  /** Shut down the sending side at end of input (TCP). */
  shutdownOnEof: boolean;
  /**
   * After the peer has finished, wait for the input to end too (true for
   * files and pipes; false for a terminal or `-d`, where nothing more is coming
   * that matters once the peer is gone).
   */
  waitForInput: boolean;
  /** Close after this long with no data either way; null for never. */
  idleMs: number | null;
  signal: AbortSignal;
  /** Status lines for `-v` (stderr). */
  status?: (line: string) => void;
  /** Size of the receive buffer (default {@linkcode BUFFER_SIZE}). */
  bufferSize?: number;
}

/** Why a session ended. */
export type SessionEnd = "done" | "idle" | "aborted" | "output-closed";

/** What a session moved. */
export interface SessionResult {
  sent: number;
  received: number;
  end: SessionEnd;
}

function isBrokenPipe(err: unknown): boolean {
  return err instanceof Deno.errors.BrokenPipe;
}

/**
 * Copies `input` to `conn` and `conn` to `output` until the peer has sent
 * everything and (unless `waitForInput` is false) the input has ended.
 * A reset from the peer while receiving throws FailError.
 */
export async function runTcpSession(
  conn: Deno.TcpConn,
  options: SessionOptions,
): Promise<SessionResult> {
  const { input, output, signal } = options;
  const status = options.status ?? (() => {});
  let sent = 0;
  let received = 0;
  let end: SessionEnd = "done";
  let closed = false;
  const close = (why: SessionEnd) => {
    if (closed) return;
    closed = true;
    end = why;
    closeQuietly(conn);
  };
  const idle = options.idleMs === null ? null : new IdleTimer(options.idleMs, () => {
    status(`no data for ${options.idleMs! / 1000} s: closing`);
    close("idle");
  });
  const onAbort = () => close("aborted");
  if (signal.aborted) onAbort();
  signal.addEventListener("abort", onAbort, { once: true });

  let receiveError: unknown;
  let outputClosed = false;
  const receiving = (async () => {
    // Two buffers: the next read fills one while the other is being written
    // (a pipe's asynchronous write runs on another thread meanwhile).
    const size = options.bufferSize ?? BUFFER_SIZE;
    const buffers = [new Uint8Array(size), new Uint8Array(size)];
    let turn = 0;
    let writing: Promise<void> | null = null;
    const write = (chunk: Uint8Array): Promise<void> | null => {
      try {
        const r = output.write(chunk);
        return r ? r.catch(onWriteError) : null;
      } catch (err) {
        onWriteError(err);
        return null;
      }
    };
    const onWriteError = (err: unknown) => {
      if (!isBrokenPipe(err)) throw err;
      status("stdout was closed: closing");
      outputClosed = true;
      close("output-closed");
    };
    while (!closed) {
      const buf = buffers[turn];
      turn ^= 1;
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch (err) {
        if (!closed) receiveError = err;
        break;
      } finally {
        if (writing) await writing;
        writing = null;
      }
      if (n === null) {
        // The peer has sent everything: only the input is left to move.
        if (options.idleMs === null) input.mayBlock?.();
        break;
      }
      if (outputClosed) break;
      received += n;
      idle?.touch();
      writing = write(buf.subarray(0, n));
    }
    if (writing) await writing;
  })();

  let sendError: unknown;
  const sending = (async () => {
    let pending: Promise<void> | null = null;
    while (!closed && sendError === undefined) {
      // Read the next chunk while the previous one is still being sent.
      const chunk = await input.read();
      if (pending) await pending;
      if (chunk === null || closed || sendError !== undefined) break;
      pending = writeAll(conn, chunk).then(() => {
        sent += chunk.length;
        idle?.touch();
      }, (err) => {
        sendError = err;
      });
    }
    if (pending) await pending;
    // Our side has sent everything: only the output is left to move.
    if (options.idleMs === null) output.mayBlock?.();
    if (closed || sendError !== undefined) return;
    if (options.shutdownOnEof) {
      try {
        await conn.closeWrite();
      } catch (err) {
        if (!isGone(err)) throw err;
      }
    }
  })();

  sending.catch(() => {}); // awaited below unless the session ends without it

  try {
    await receiving;
    if (!closed && options.waitForInput) await sending;
  } finally {
    idle?.stop();
    signal.removeEventListener("abort", onAbort);
    close(end);
  }
  if (sendError !== undefined && isGone(sendError)) {
    status(`the peer closed the connection before all input was sent (${errorReason(sendError)})`);
  } else if (sendError !== undefined) {
    throw new FailError(`cannot send: ${errorReason(sendError)}`);
  }
  if (receiveError !== undefined) {
    if (receiveError instanceof Deno.errors.ConnectionReset) {
      throw new FailError("connection reset by peer");
    }
    if (!isGone(receiveError)) throw new FailError(`cannot receive: ${errorReason(receiveError)}`);
  }
  return { sent, received, end };
}

/** Strips the IPv4-mapped prefix so `::ffff:127.0.0.1` and `127.0.0.1` compare equal. */
export function plainAddress(address: string): string {
  return address.toLowerCase().startsWith("::ffff:") && address.includes(".")
    ? address.slice(7)
    : address;
}

/** True when `a` and `b` are the same host and port. */
export function sameEndpoint(a: Deno.NetAddr, b: Deno.NetAddr): boolean {
  return a.port === b.port && plainAddress(a.hostname) === plainAddress(b.hostname);
}

/**
 * UDP: sends each input chunk as one datagram to the peer and writes each
 * datagram from the peer to `output` (others are ignored). With `peer` null
 * (listening), the first datagram's sender becomes the peer. UDP has no end
 * of stream, so this runs until the idle time-out or the signal.
 */
export async function runUdpSession(
  sock: Deno.DatagramConn,
  peer: Deno.NetAddr | null,
  options: SessionOptions,
): Promise<SessionResult> {
  const { input, output, signal } = options;
  const status = options.status ?? (() => {});
  let sent = 0;
  let received = 0;
  let end: SessionEnd = "done";
  let closed = false;
  let resolveDone!: () => void;
  const finished = new Promise<void>((r) => resolveDone = r);
  const close = (why: SessionEnd) => {
    if (closed) return;
    closed = true;
    end = why;
    closeQuietly(sock);
    resolveDone();
  };
  const onAbort = () => close("aborted");
  if (signal.aborted) onAbort();
  signal.addEventListener("abort", onAbort, { once: true });
  let idle: IdleTimer | null = null;
  const startIdle = () => {
    if (options.idleMs === null || idle) return;
    idle = new IdleTimer(options.idleMs, () => {
      status(`no data for ${options.idleMs! / 1000} s: closing`);
      close("idle");
    });
  };

  let peerKnown!: () => void;
  const peerReady = new Promise<void>((r) => peerKnown = r);
  if (peer) {
    peerKnown();
    startIdle();
  }

  let failure: unknown;
  const receiving = (async () => {
    const buf = new Uint8Array(65536);
    while (!closed) {
      let data: Uint8Array;
      let from: Deno.Addr;
      try {
        [data, from] = await sock.receive(buf);
      } catch (err) {
        if (!closed && !isGone(err)) failure = err;
        return;
      }
      const addr = from as Deno.NetAddr;
      if (!peer) {
        peer = addr;
        status(`datagrams from ${formatAddr(addr)}`);
        peerKnown();
        startIdle();
      } else if (!sameEndpoint(peer, addr)) {
        continue; // not our peer
      }
      received += data.length;
      (idle as IdleTimer | null)?.touch();
      try {
        await output.write(data);
      } catch (err) {
        if (!isBrokenPipe(err)) throw err;
        close("output-closed");
        return;
      }
    }
  })();

  const sending = (async () => {
    await Promise.race([peerReady, finished]);
    while (!closed) {
      const chunk = await input.read();
      if (chunk === null || closed || !peer) return;
      try {
        await sock.send(chunk, peer);
      } catch (err) {
        if (closed) return;
        failure = err;
        close("done");
        return;
      }
      sent += chunk.length;
      (idle as IdleTimer | null)?.touch();
    }
  })();
  sending.catch(() => {});

  try {
    await finished;
    await receiving;
  } finally {
    (idle as IdleTimer | null)?.stop();
    signal.removeEventListener("abort", onAbort);
    close(end);
  }
  if (failure !== undefined) throw new FailError(`UDP error: ${errorReason(failure)}`);
  return { sent, received, end };
}
