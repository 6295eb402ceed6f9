/**
 * The UDP request/reply load generator behind `socklab bench udp`: one socket
 * keeps `concurrency` requests in flight; every reply is paired with the
 * oldest outstanding send (a single-threaded server on one socket answers in
 * order), timed, and replaced by a new request. A request unanswered for
 * `timeoutMs` is counted lost and replaced, so losses never shrink the window.
 *
 * @example
 * ```ts ignore
 * import { runUdpLoad } from "./udp.ts";
 * const r = await runUdpLoad({ hostname: "127.0.0.1", port: 1502 }, {
 *   payload: new TextEncoder().encode("USD"), concurrency: 64, durationMs: 5000,
 * });
 * console.log(r.replies / (r.elapsedMs / 1000), r.latency.percentile(99));
 * ```
 * @module
 */
import type { HostPort } from "../net/address.ts";
import { bindUdp, MAX_DATAGRAM } from "../net/udp.ts";
import { InFlight, LatencyHistogram } from "./stats.ts";

/** Default requests kept in flight. */
export const DEFAULT_CONCURRENCY = 64;
/** Default time after which an unanswered request counts as lost. */
export const DEFAULT_LOSS_TIMEOUT_MS = 1000;

/** Options of {@linkcode runUdpLoad}. */
export interface UdpLoadOptions {
  /** The bytes of every request. */
  payload: Uint8Array;
  /** Requests kept in flight (default {@linkcode DEFAULT_CONCURRENCY}). */
  concurrency?: number;
  /** How long to send; the run always ends by then. */
  durationMs: number;
  /** Unanswered this long = lost (default {@linkcode DEFAULT_LOSS_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Ends the run early (Ctrl-C); the result covers the time until then. */
  signal?: AbortSignal;
}

/** Counters of a run, readable while it goes (for the progress line). */
export interface UdpLoadCounters {
  /** Requests sent. */
  sent: number;
  /** Replies paired with a request. */
  replies: number;
  /** Requests given up after the loss time-out. */
  lost: number;
  /** Datagrams from another address or port (not counted as replies). */
  stray: number;
  /** Sends the socket refused. */
  sendErrors: number;
}

/** What a run measured. */
export interface UdpLoadResult extends UdpLoadCounters {
  /** Requests still unanswered when the run ended (neither replies nor losses). */
  unanswered: number;
  /** From the first send to the end of the run. */
  elapsedMs: number;
  /** Round-trip times in µs. */
  latency: LatencyHistogram;
  /** Whether the signal cut the run short. */
  interrupted: boolean;
}

/**
 * Drives `target` for `durationMs`. `counters` (if given) is updated live.
 * Throws FailError when the local socket cannot be bound.
 */
export async function runUdpLoad(
  target: HostPort,
  options: UdpLoadOptions,
  counters: UdpLoadCounters = { sent: 0, replies: 0, lost: 0, stray: 0, sendErrors: 0 },
): Promise<UdpLoadResult> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOSS_TIMEOUT_MS;
  const { payload, signal } = options;
  const conn = bindUdp({ hostname: target.hostname.includes(":") ? "::" : "0.0.0.0", port: 0 });
  const to: Deno.NetAddr = { transport: "udp", hostname: target.hostname, port: target.port };
  const flight = new InFlight(concurrency);
  const latency = new LatencyHistogram();
  const buffer = new Uint8Array(MAX_DATAGRAM + 1);
  let running = true;

  const sendFailed = () => {
    counters.sendErrors++;
  };
  const send = (now: number) => {
    if (!flight.push(now)) return;
    counters.sent++;
    // Not awaited: the window, not the send, limits what is outstanding.
    conn.send(payload, to).catch(sendFailed);
  };
  const stop = () => {
    if (!running) return;
    running = false;
    try {
      conn.close(); // the pending receive rejects and the loop ends
    } catch {
      // already closed
    }
  };

  const started = performance.now();
  let ended = started;
  const endTimer = setTimeout(stop, options.durationMs);
  // A request older than the time-out is lost; its slot gets a new request.
  const lossTimer = setInterval(() => {
    const gone = flight.expire(performance.now() - timeoutMs);
    if (gone === 0) return;
    counters.lost += gone;
    const now = performance.now();
    for (let i = 0; i < gone && running; i++) send(now);
  }, Math.max(5, Math.min(250, timeoutMs / 4)));
  signal?.addEventListener("abort", stop, { once: true });
  if (signal?.aborted) stop();

  try {
    for (let i = 0; i < concurrency && running; i++) send(performance.now());
    while (running) {
      let from: Deno.NetAddr;
      try {
        from = (await conn.receive(buffer))[1] as Deno.NetAddr;
      } catch (err) {
        if (!running) break;
        // ICMP errors can surface on the next receive; the request is lost, not the run.
        if (err instanceof Deno.errors.ConnectionRefused) continue;
        throw err;
      }
      const now = performance.now();
      if (from.port !== target.port) {
        counters.stray++;
        continue;
      }
      const sentAt = flight.shift();
      if (sentAt === undefined) {
        counters.stray++; // a late reply to a request already counted lost
        continue;
      }
      latency.record((now - sentAt) * 1000);
      counters.replies++;
      if (now - started >= options.durationMs) break;
      send(now); // the reply's arrival time is the new request's send time
    }
  } finally {
    ended = performance.now();
    clearTimeout(endTimer);
    clearInterval(lossTimer);
    signal?.removeEventListener("abort", stop);
    stop();
  }
  counters.lost += flight.expire(ended - timeoutMs);
  return {
    ...counters,
    unanswered: flight.size,
    elapsedMs: ended - started,
    latency,
    interrupted: signal?.aborted ?? false,
  };
}
