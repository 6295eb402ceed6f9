/**
 * The TCP throughput generator behind `socklab bench tcp`: connect, write
 * `bytes` bytes in large chunks, half-close, and time until the peer closes
 * too (proof that it read everything) or, if it keeps its side open, until
 * the last write. Whatever the peer sends back is read and counted at the
 * same time, so an echoing peer cannot deadlock the run.
 *
 * @example
 * ```ts ignore
 * import { runTcpThroughput } from "./tcp.ts";
 * const r = await runTcpThroughput({ hostname: "127.0.0.1", port: 9000 }, { bytes: 1 << 30 });
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

/** Options of {@linkcode runTcpThroughput}. */
export interface TcpThroughputOptions {
  /** Bytes to send. */
  bytes: number;
  /** The run stops sending after this long even if `bytes` are not all sent. */
  maxMs?: number;
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
  /** Bytes the peer sent back. */
  received: number;
}

/** What a run measured. */
export interface TcpThroughputResult extends TcpThroughputCounters {
  /** Connect time. */
  connectMs: number;
  /** From the first write to the peer's close, or to the last write if it did not close. */
  elapsedMs: number;
  /** Whether the peer closed its side within the wait (it read everything). */
  peerClosed: boolean;
  /** Why fewer than `bytes` were sent: the time limit or an interrupt. */
  stoppedBy?: "time limit" | "interrupted";
}

/** Sends `options.bytes` to `target`. Throws FailError on refusal or reset. */
export async function runTcpThroughput(
  target: HostPort,
  options: TcpThroughputOptions,
  counters: TcpThroughputCounters = { sent: 0, received: 0 },
): Promise<TcpThroughputResult> {
  const label = formatHostPort(target.hostname, target.port);
  const t0 = performance.now();
  const conn = await connectTcp(target);
  const connectMs = performance.now() - t0;
  const chunk = new Uint8Array(options.chunkSize ?? DEFAULT_CHUNK).fill(0x61);
  let stoppedBy: TcpThroughputResult["stoppedBy"];
  const stopWriting = (why: "time limit" | "interrupted") => {
    stoppedBy ??= why;
  };
  const onAbort = () => {
    stopWriting("interrupted");
    closeQuietly(conn); // a write blocked on a stalled peer must end too
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const limit = setTimeout(() => {
    stopWriting("time limit");
    closeQuietly(conn);
  }, options.maxMs ?? 60_000);

  let peerClosedAt: number | undefined;
  const reading = (async () => {
    const buf = new Uint8Array(64 * 1024);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      counters.received += n;
    }
    peerClosedAt = performance.now();
  })().catch((err) => {
    if (!isGone(err) && !stoppedBy) throw err;
  });

  const started = performance.now();
  let lastWrite = started;
  try {
    while (counters.sent < options.bytes && !stoppedBy) {
      const left = options.bytes - counters.sent;
      const n = await conn.write(left < chunk.length ? chunk.subarray(0, left) : chunk);
      counters.sent += n;
    }
    lastWrite = performance.now();
    if (!stoppedBy) await conn.closeWrite();
  } catch (err) {
    lastWrite = performance.now();
    if (!stoppedBy) {
      closeQuietly(conn);
      await reading.catch(() => {});
      clearTimeout(limit);
      options.signal?.removeEventListener("abort", onAbort);
      throw new FailError(
        `${label} ${
          isGone(err) ? "closed the connection" : reason(err)
        } after ${counters.sent} bytes`,
      );
    }
  }
  clearTimeout(limit);
  if (!stoppedBy && peerClosedAt === undefined) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      reading,
      new Promise<void>((
        resolve,
      ) => (timer = setTimeout(resolve, options.closeWaitMs ?? DEFAULT_CLOSE_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }
  options.signal?.removeEventListener("abort", onAbort);
  closeQuietly(conn);
  await reading.catch(() => {});
  // A peer that closed its side before our last write proves nothing about receipt.
  const peerClosed = !stoppedBy && peerClosedAt !== undefined && peerClosedAt >= lastWrite;
  return {
    ...counters,
    connectMs,
    elapsedMs: (peerClosed ? peerClosedAt! : lastWrite) - started,
    peerClosed,
    stoppedBy,
  };
}
