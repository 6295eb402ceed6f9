/**
 * The TCP throughput generator behind `socklab bench tcp`, like iperf3 against
 * any peer: one or several connections (streams), each sending (`send`, the
 * default), receiving what the peer sends (`receive`, iperf3's `--reverse`),
 * or both at once (`both`, `--bidir`), for a byte count or a time.
 *
 * A sending stream writes in large chunks, half-closes, and is timed until the
 * peer closes too (proof that it read everything) or, if it keeps its side
 * open, until the last write; whatever the peer sends back is read and
 * counted at the same time, so an echoing peer cannot deadlock the run. A
 * receiving stream is timed from the connect to its last byte.
 *
 * @example
 * ```ts ignore
 * import { runTcpStreams } from "./tcp.ts";
 * const r = await runTcpStreams({ hostname: "127.0.0.1", port: 9000 }, {
 *   streams: 4, bytes: 1 << 30, direction: "send",
 * });
 * console.log(r.sent / (r.elapsedMs / 1000), "bytes/s");
 * ```
 * @module
 */
import { FailError } from "../cli/errors.ts";
import { formatHostPort, type HostPort } from "../net/address.ts";
import { closeQuietly, connectTcp, isGone } from "../net/tcp.ts";
import { reason } from "../net/udp.ts";

/** Default size of each write: large writes keep the per-call cost out of the figure. */
export const DEFAULT_CHUNK = 128 * 1024;
/** How long to wait for the peer to close after our half-close. */
export const DEFAULT_CLOSE_WAIT_MS = 5000;
/** After the time limit, a write still blocked (the peer stopped reading) is cut off this much later. */
const WRITE_GRACE_MS = 1000;

/** Which way the bytes flow: to the peer, from it (iperf3 `--reverse`), or both (`--bidir`). */
export type TcpDirection = "send" | "receive" | "both";

/** Options of {@linkcode runTcpThroughput}. */
export interface TcpThroughputOptions {
  /** Bytes to move each way; without it the stream runs until `maxMs`. */
  bytes?: number;
  /** The run stops after this long (default 60 s). */
  maxMs?: number;
  /** Which way (default `"send"`). */
  direction?: TcpDirection;
  /** Size of each write (default {@linkcode DEFAULT_CHUNK}). */
  chunkSize?: number;
  /** Wait this long for the peer's close after sending (default {@linkcode DEFAULT_CLOSE_WAIT_MS}). */
  closeWaitMs?: number;
  /** Ends the run early (Ctrl-C). */
  signal?: AbortSignal;
}

/** Counters of a run, readable while it goes. */
export interface TcpThroughputCounters {
  /** Bytes written. */
  sent: number;
  /** Bytes the peer sent. */
  received: number;
}

/** What one stream measured. */
export interface TcpThroughputResult extends TcpThroughputCounters {
  /** Connect time. */
  connectMs: number;
  /** From the first write (or the connect) to the stream's end. */
  elapsedMs: number;
  /** When that began (`performance.now()`), to line several streams up. */
  startedAt: number;
  /** Sending: whether the peer closed its side after our last write (it read everything). */
  peerClosed: boolean;
  /** Why the stream ended before its byte count: the time limit or an interrupt. */
  stoppedBy?: "time limit" | "interrupted";
}

/** One connection's run: its writer, its reader, and how it stopped. */
class TcpStream {
  stoppedBy: TcpThroughputResult["stoppedBy"];
  peerClosedAt: number | undefined;
  lastWrite = 0;
  readEnd = 0;
  sent = 0;
  received = 0;
  readonly started = performance.now();
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  readonly #onAbort = () => this.#stop("interrupted", true);

  constructor(
    readonly conn: Deno.TcpConn,
    readonly options: TcpThroughputOptions,
    /** Totals over every stream of the run, updated live. */
    readonly total: TcpThroughputCounters,
  ) {
    options.signal?.addEventListener("abort", this.#onAbort, { once: true });
    const limit = options.maxMs ?? 60_000;
    this.#timers.push(setTimeout(() => this.#stop("time limit", false), limit));
    this.#timers.push(setTimeout(() => this.#stop("time limit", true), limit + WRITE_GRACE_MS));
    if (options.signal?.aborted) this.#onAbort();
  }

  /** Flags the stop; `hard` also closes the socket (a blocked write or read must end). */
  #stop(why: "time limit" | "interrupted", hard: boolean): void {
    this.stoppedBy ??= why;
    if (hard || this.options.direction === "receive") closeQuietly(this.conn);
  }

  /** Whether the receiving side has what it came for. */
  #receivedAll(): boolean {
    const { bytes, direction } = this.options;
    return direction === "receive" && bytes !== undefined && this.received >= bytes;
  }

  /** Reads until EOF (or, receiving only, until `bytes`); never throws for a gone peer. */
  async read(): Promise<void> {
    const buf = new Uint8Array(256 * 1024);
    try {
      while (!this.#receivedAll()) {
        const n = await this.conn.read(buf);
        if (n === null) {
          this.peerClosedAt = performance.now();
          break;
        }
        this.received += n;
        this.total.received += n;
      }
    } catch (err) {
      if (!isGone(err) && !this.stoppedBy) throw err;
    } finally {
      this.readEnd = performance.now();
    }
  }

  /** Writes `bytes` (or until stopped), then half-closes. Throws FailError on a reset. */
  async write(label: string): Promise<void> {
    const chunk = new Uint8Array(this.options.chunkSize ?? DEFAULT_CHUNK).fill(0x61);
    const bytes = this.options.bytes ?? Infinity;
    try {
      while (this.sent < bytes && !this.stoppedBy) {
        const left = bytes - this.sent;
        const n = await this.conn.write(left < chunk.length ? chunk.subarray(0, left) : chunk);
        this.sent += n;
        this.total.sent += n;
      }
      this.lastWrite = performance.now();
      if (this.stoppedBy !== "interrupted") await this.conn.closeWrite();
    } catch (err) {
      this.lastWrite = performance.now();
      if (this.stoppedBy) return;
      closeQuietly(this.conn);
      throw new FailError(
        `${label} ${isGone(err) ? "closed the connection" : reason(err)} after ${this.sent} bytes`,
      );
    }
  }

  /** Waits up to `ms` for the peer's close, then lets everything go. */
  async finish(reading: Promise<void>, ms: number): Promise<void> {
    if (this.peerClosedAt === undefined && this.stoppedBy !== "interrupted") {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wait = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
      await Promise.race([reading, wait]);
      clearTimeout(timer);
    }
    this.release();
    await reading.catch(() => {});
  }

  /** Clears the timers and the abort listener and closes the socket. */
  release(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.options.signal?.removeEventListener("abort", this.#onAbort);
    closeQuietly(this.conn);
  }
}

/** Runs one stream. Throws FailError on refusal or reset. */
export async function runTcpThroughput(
  target: HostPort,
  options: TcpThroughputOptions,
  counters: TcpThroughputCounters = { sent: 0, received: 0 },
): Promise<TcpThroughputResult> {
  const label = formatHostPort(target.hostname, target.port);
  const t0 = performance.now();
  const conn = await connectTcp(target);
  const connectMs = performance.now() - t0;
  const stream = new TcpStream(conn, options, counters);
  const reading = stream.read();
  const direction = options.direction ?? "send";
  try {
    if (direction !== "receive") await stream.write(label);
  } catch (err) {
    stream.release();
    await reading.catch(() => {});
    throw err;
  }
  // Receiving, the reader ends the stream (its byte count, the peer's close or the time limit).
  if (direction === "receive") await reading.catch(() => {});
  await stream.finish(reading, options.closeWaitMs ?? DEFAULT_CLOSE_WAIT_MS);
  return streamResult(stream, direction, connectMs);
}

function streamResult(
  s: TcpStream,
  direction: TcpDirection,
  connectMs: number,
): TcpThroughputResult {
  // A peer that closed its side before our last write proves nothing about receipt.
  const peerClosed = direction !== "receive" && !s.stoppedBy && s.peerClosedAt !== undefined &&
    s.peerClosedAt >= s.lastWrite;
  const sendEnd = peerClosed ? s.peerClosedAt! : s.lastWrite;
  const end = direction === "send" ? sendEnd : direction === "receive" ? s.readEnd : Math.max(
    sendEnd,
    s.readEnd,
  );
  return {
    sent: s.sent,
    received: s.received,
    connectMs,
    elapsedMs: end - s.started,
    startedAt: s.started,
    peerClosed,
    stoppedBy: s.stoppedBy,
  };
}

/** Options of {@linkcode runTcpStreams}. */
export interface TcpStreamsOptions extends TcpThroughputOptions {
  /** Connections at once (iperf3 `-P`), default 1. */
  streams?: number;
}

/** What several streams measured together. */
export interface TcpStreamsResult extends TcpThroughputCounters {
  /** From the start to the end of the last stream. */
  elapsedMs: number;
  /** Each stream's own result, in order. */
  streams: TcpThroughputResult[];
}

/**
 * Runs `streams` connections at once, each moving `bytes` (each way) or
 * running until `maxMs`. Throws FailError when any of them fails.
 */
export async function runTcpStreams(
  target: HostPort,
  options: TcpStreamsOptions,
  counters: TcpThroughputCounters = { sent: 0, received: 0 },
): Promise<TcpStreamsResult> {
  const n = options.streams ?? 1;
  const runs = await Promise.allSettled(
    Array.from({ length: n }, () => runTcpThroughput(target, options, counters)),
  );
  const failed = runs.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const streams = runs.map((r) => (r as PromiseFulfilledResult<TcpThroughputResult>).value);
  const first = Math.min(...streams.map((s) => s.startedAt));
  const elapsedMs = Math.max(...streams.map((s) => s.startedAt + s.elapsedMs)) - first;
  return {
    sent: streams.reduce((a, s) => a + s.sent, 0),
    received: streams.reduce((a, s) => a + s.received, 0),
    elapsedMs,
    streams,
  };
}
