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
import { findSocketFd } from "../net/socket_fd.ts";
import { BUFFER_SIZE, IdleTimer, type Input, type Output } from "./stdio.ts";
import {
  peerGone,
  YIELD_EVERY_MS,
  yieldToEventLoop,
  ZeroCopy,
  ZeroCopyError,
  zeroCopyLibc,
  zeroCopyMode,
} from "./zero_copy.ts";

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
 * What one session keeps while both directions run: the byte counts, why
 * it ended, the errors each direction met, the idle timer and the abort
 * signal. Closing it closes the socket once, whoever asks first.
 */
class Session {
  sent = 0;
  received = 0;
  end: SessionEnd = "done";
  closed = false;
  /** stdout went away (EPIPE): nothing more is received. */
  outputClosed = false;
  /** Why sending, receiving (or, for UDP, either) failed. */
  sendError: unknown;
  receiveError: unknown;
  readonly status: (line: string) => void;
  /** Resolves when the session closes. */
  readonly done: Promise<void>;
  #resolveDone!: () => void;
  #idle: IdleTimer | null = null;
  readonly #onAbort = () => this.close("aborted");

  constructor(readonly options: SessionOptions, readonly closeSocket: () => void) {
    this.status = options.status ?? (() => {});
    this.done = new Promise((resolve) => this.#resolveDone = resolve);
    if (options.signal.aborted) this.#onAbort();
    options.signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Ends the session (the first reason given is kept) and closes the socket. */
  close(why: SessionEnd): void {
    if (this.closed) return;
    this.closed = true;
    this.end = why;
    this.closeSocket();
    this.#resolveDone();
  }

  /** Starts `-w`'s idle timer (once; nothing without `-w`). */
  startIdle(): void {
    const ms = this.options.idleMs;
    if (ms === null || this.#idle) return;
    this.#idle = new IdleTimer(ms, () => {
      this.status(`no data for ${ms / 1000} s: closing`);
      this.close("idle");
    });
  }

  /** Data moved either way: the idle time starts again. */
  touch(): void {
    this.#idle?.touch();
  }

  /**
   * Writes a received chunk to the output; a closed stdout closes the
   * session (TCP says so with -v). Resolves when written, or null when the
   * write was synchronous.
   */
  write(chunk: Uint8Array, announce: boolean): Promise<void> | null {
    const onError = (err: unknown) => {
      if (!isBrokenPipe(err)) throw err;
      if (announce) this.status("stdout was closed: closing");
      this.outputClosed = true;
      this.close("output-closed");
    };
    try {
      const r = this.options.output.write(chunk);
      return r ? r.catch(onError) : null;
    } catch (err) {
      onError(err);
      return null;
    }
  }

  /** Stops the timer and the signal listener, and closes. */
  finish(): void {
    this.#idle?.stop();
    this.options.signal.removeEventListener("abort", this.#onAbort);
    this.close(this.end);
  }

  result(): SessionResult {
    return { sent: this.sent, received: this.received, end: this.end };
  }
}

/**
 * TCP socket to output, with two buffers: the next read fills one while the
 * other is being written (a pipe's asynchronous write runs on another thread
 * meanwhile).
 */
async function receiveTcp(conn: Deno.TcpConn, s: Session): Promise<void> {
  const size = s.options.bufferSize ?? BUFFER_SIZE;
  const buffers = [new Uint8Array(size), new Uint8Array(size)];
  let turn = 0;
  let writing: Promise<void> | null = null;
  while (!s.closed) {
    const buf = buffers[turn];
    turn ^= 1;
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch (err) {
      if (!s.closed) s.receiveError = err;
      break;
    } finally {
      if (writing) await writing;
      writing = null;
    }
    if (n === null) {
      // The peer has sent everything: only the input is left to move.
      if (s.options.idleMs === null) s.options.input.mayBlock?.();
      break;
    }
    if (s.outputClosed) break;
    s.received += n;
    s.touch();
    writing = s.write(buf.subarray(0, n), true);
  }
  if (writing) await writing;
}

/** Input to the TCP socket, reading the next chunk while the previous one is sent; then half-close. */
async function sendTcp(conn: Deno.TcpConn, s: Session): Promise<void> {
  const { input, output } = s.options;
  let pending: Promise<void> | null = null;
  while (!s.closed && s.sendError === undefined) {
    const chunk = await input.read();
    if (pending) await pending;
    if (chunk === null || s.closed || s.sendError !== undefined) break;
    pending = writeAll(conn, chunk).then(() => {
      s.sent += chunk.length;
      s.touch();
    }, (err) => {
      s.sendError = err;
    });
  }
  if (pending) await pending;
  // Our side has sent everything: only the output is left to move.
  if (s.options.idleMs === null) output.mayBlock?.();
  if (s.closed || s.sendError !== undefined) return;
  if (s.options.shutdownOnEof) {
    try {
      await conn.closeWrite();
    } catch (err) {
      if (!isGone(err)) throw err;
    }
  }
}

/** Turns what went wrong in a finished TCP session into a status line or a FailError. */
function checkTcpErrors(s: Session): void {
  const { sendError, receiveError } = s;
  if (sendError !== undefined && isGone(sendError)) {
    s.status(
      `the peer closed the connection before all input was sent (${errorReason(sendError)})`,
    );
  } else if (sendError !== undefined) {
    throw new FailError(`cannot send: ${errorReason(sendError)}`);
  }
  if (receiveError !== undefined) {
    if (receiveError instanceof Deno.errors.ConnectionReset) {
      throw new FailError("connection reset by peer");
    }
    if (!isGone(receiveError)) throw new FailError(`cannot receive: ${errorReason(receiveError)}`);
  }
}

/**
 * The zero-copy path for `conn`, when the input and output allow it (see
 * zero_copy.ts) and everything it needs is there; otherwise undefined.
 */
function openZeroCopy(conn: Deno.TcpConn, options: SessionOptions): ZeroCopy | undefined {
  const input = options.input.fd;
  const output = options.output.fd;
  if (input === undefined || output === undefined) return undefined;
  const c = zeroCopyLibc();
  const fd = c
    ? findSocketFd(
      "tcp",
      (conn.localAddr as Deno.NetAddr).port,
      (conn.remoteAddr as Deno.NetAddr).port,
    )
    : undefined;
  if (!c || fd === undefined) return undefined;
  return new ZeroCopy(c, fd, { input, output }, { sendfile: zeroCopyMode() !== "read" });
}

/** A failed system call of the zero-copy loop as the Deno error the portable loops would meet. */
function asDenoError(err: ZeroCopyError): Error {
  if (err.code === 104) return new Deno.errors.ConnectionReset("connection reset by peer");
  if (err.code === 32) return new Deno.errors.BrokenPipe("broken pipe");
  return new Error(`errno ${err.code}`);
}

/**
 * Runs the zero-copy loop: both directions until the peer has finished and
 * (with `waitForInput`) the input has ended, half-closing at end of input.
 * It blocks in poll(2) for at most {@linkcode YIELD_EVERY_MS} at a time and
 * gives the event loop a turn that often (signals, the -w timer).
 */
async function runZeroCopy(zc: ZeroCopy, s: Session): Promise<void> {
  const { state } = zc;
  let halfClosed = false;
  let turn = performance.now();
  while (!s.closed) {
    let moved = 0;
    try {
      moved = zc.step();
    } catch (err) {
      if (!(err instanceof ZeroCopyError)) throw err;
      if (err.side === "receive") {
        s.receiveError = asDenoError(err);
        return;
      }
      s.sendError = asDenoError(err);
      if (!peerGone(err)) return;
    }
    s.sent = state.sent;
    s.received = state.received;
    if (moved > 0) s.touch();
    if (state.sendDone && !halfClosed) {
      halfClosed = true;
      if (s.options.shutdownOnEof && s.sendError === undefined) zc.shutdownWrite();
    }
    if (state.recvDone && (state.sendDone || !s.options.waitForInput)) return;
    if (moved === 0) zc.wait(YIELD_EVERY_MS);
    if (performance.now() - turn >= YIELD_EVERY_MS) {
      await yieldToEventLoop();
      turn = performance.now();
    }
  }
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
  const s = new Session(options, () => closeQuietly(conn));
  s.startIdle();
  const zc = openZeroCopy(conn, options);
  if (zc) {
    try {
      await runZeroCopy(zc, s);
    } finally {
      zc.close();
      s.finish();
    }
    checkTcpErrors(s);
    return s.result();
  }
  const receiving = receiveTcp(conn, s);
  const sending = sendTcp(conn, s);
  sending.catch(() => {}); // awaited below unless the session ends without it
  try {
    await receiving;
    if (!s.closed && options.waitForInput) await sending;
  } finally {
    s.finish();
  }
  checkTcpErrors(s);
  return s.result();
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

/** The UDP peer: given (connect), or the first sender (listen). */
class UdpPeer {
  /** Resolves once the peer is known. */
  readonly known: Promise<void>;
  #resolve!: () => void;

  constructor(public addr: Deno.NetAddr | null) {
    this.known = new Promise((resolve) => this.#resolve = resolve);
    if (addr) this.#resolve();
  }

  /** Takes `from` as the peer. */
  adopt(from: Deno.NetAddr): void {
    this.addr = from;
    this.#resolve();
  }
}

/** Datagrams from the peer to the output; the first sender becomes the peer when none is set. */
async function receiveUdp(sock: Deno.DatagramConn, peer: UdpPeer, s: Session): Promise<void> {
  const buf = new Uint8Array(65536);
  while (!s.closed) {
    let data: Uint8Array;
    let from: Deno.Addr;
    try {
      [data, from] = await sock.receive(buf);
    } catch (err) {
      if (!s.closed && !isGone(err)) {
        s.receiveError = err;
        s.close("done");
      }
      return;
    }
    const addr = from as Deno.NetAddr;
    if (!peer.addr) {
      peer.adopt(addr);
      s.status(`datagrams from ${formatAddr(addr)}`);
      s.startIdle();
    } else if (!sameEndpoint(peer.addr, addr)) {
      continue; // not our peer
    }
    s.received += data.length;
    s.touch();
    await s.write(data, false);
    if (s.outputClosed) return;
  }
}

/** Each input chunk as one datagram to the peer, once it is known. */
async function sendUdp(sock: Deno.DatagramConn, peer: UdpPeer, s: Session): Promise<void> {
  await Promise.race([peer.known, s.done]);
  while (!s.closed) {
    const chunk = await s.options.input.read();
    if (chunk === null || s.closed || !peer.addr) return;
    try {
      await sock.send(chunk, peer.addr);
    } catch (err) {
      if (s.closed) return;
      s.sendError = err;
      s.close("done");
      return;
    }
    s.sent += chunk.length;
    s.touch();
  }
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
  const s = new Session(options, () => closeQuietly(sock));
  const slot = new UdpPeer(peer);
  if (peer) s.startIdle();
  const receiving = receiveUdp(sock, slot, s);
  sendUdp(sock, slot, s).catch(() => {});
  try {
    await s.done;
    await receiving;
  } finally {
    s.finish();
  }
  const failure = s.sendError ?? s.receiveError;
  if (failure !== undefined) throw new FailError(`UDP error: ${errorReason(failure)}`);
  return s.result();
}
