/**
 * The UDP request/reply load generator behind `socklab bench udp`: keeps
 * `concurrency` requests in flight; every reply is paired with the oldest
 * outstanding send (a single-threaded server on one socket answers in
 * order), timed, and replaced by a new request. A request unanswered for
 * `timeoutMs` is counted lost and replaced, so losses never shrink the window.
 *
 * On Linux the requests go out and the replies come in in batches
 * (udp_batch.ts: `sendmmsg`/`recvmmsg` through FFI, one op per batch);
 * elsewhere, or with `SOCKLAB_UDP=portable`, through Deno's `DatagramConn`,
 * one op per datagram. The result says which ran, and what the generator
 * itself spent (headroom.ts), so its own limit shows.
 *
 * @example
 * ```ts ignore
 * import { runUdpLoad } from "./udp.ts";
 * const r = await runUdpLoad({ hostname: "127.0.0.1", port: 1502 }, {
 *   payload: new TextEncoder().encode("USD"), concurrency: 64, durationMs: 5000,
 * });
 * console.log(r.replies / (r.elapsedMs / 1000), r.latency.percentile(99), r.generator.cores);
 * ```
 * @module
 */
import type { HostPort } from "../net/address.ts";
import { bindUdp, MAX_DATAGRAM } from "../net/udp.ts";
import { Headroom, type HeadroomReport } from "./headroom.ts";
import { InFlight, LatencyHistogram } from "./stats.ts";
import { BATCH, type BatchedUdp, openBatchedUdp } from "./udp_batch.ts";

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
  /** `"portable"` forces Deno's DatagramConn even where batches work (default `"auto"`). */
  io?: "auto" | "portable";
  /** Ends the run early (Ctrl-C); the result covers the time until then. */
  signal?: AbortSignal;
  /** Every round trip is also recorded here (e.g. a per-interval histogram). */
  onLatency?: LatencyHistogram;
}

/** Counters of a run, readable while it goes (for the progress and interval lines). */
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
  /** How the datagrams moved: batched system calls or one Deno op each. */
  io: "batched" | "portable";
  /** What the generator itself spent. */
  generator: HeadroomReport;
}

/** The state of one run: the window, the counters, the clock. Both I/O loops drive it. */
class UdpLoadRun {
  readonly flight: InFlight;
  readonly latency = new LatencyHistogram();
  readonly meter = Headroom.start();
  readonly started = performance.now();
  readonly timeoutMs: number;

  constructor(readonly options: UdpLoadOptions, readonly counters: UdpLoadCounters) {
    this.flight = new InFlight(options.concurrency ?? DEFAULT_CONCURRENCY);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_LOSS_TIMEOUT_MS;
  }

  /** Whether the run is over at `now` (its time is up or it was interrupted). */
  over(now: number): boolean {
    return now - this.started >= this.options.durationMs || (this.options.signal?.aborted ?? false);
  }

  /** Free places in the window. */
  room(): number {
    return this.flight.capacity - this.flight.size;
  }

  /** Records `n` requests sent at `now`. */
  sending(n: number, now: number): void {
    for (let i = 0; i < n; i++) this.flight.push(now);
    this.counters.sent += n;
  }

  /** Pairs one reply that arrived at `now` with the oldest request. */
  reply(now: number): void {
    const sentAt = this.flight.shift();
    if (sentAt === undefined) {
      this.counters.stray++; // a late reply to a request already counted lost
      return;
    }
    const us = (now - sentAt) * 1000;
    this.latency.record(us);
    this.options.onLatency?.record(us);
    this.counters.replies++;
  }

  /** Counts the requests older than the loss time-out as lost; returns how many. */
  expire(now: number): number {
    const gone = this.flight.expire(now - this.timeoutMs);
    this.counters.lost += gone;
    return gone;
  }

  result(io: UdpLoadResult["io"]): UdpLoadResult {
    const ended = performance.now();
    this.expire(ended);
    const elapsedMs = ended - this.started;
    return {
      ...this.counters,
      unanswered: this.flight.size,
      elapsedMs,
      latency: this.latency,
      interrupted: this.options.signal?.aborted ?? false,
      io,
      generator: this.meter.finish(elapsedMs),
    };
  }
}

/**
 * Drives `target` (an IP literal) for `durationMs`. `counters` (if given) is
 * updated live. Throws FailError when the local socket cannot be bound.
 */
export async function runUdpLoad(
  target: HostPort,
  options: UdpLoadOptions,
  counters: UdpLoadCounters = { sent: 0, replies: 0, lost: 0, stray: 0, sendErrors: 0 },
): Promise<UdpLoadResult> {
  const batched = options.io === "portable" ? undefined : openBatchedUdp(target, options.payload);
  const run = new UdpLoadRun(options, counters);
  if (batched) {
    try {
      await batchedLoop(run, batched);
    } finally {
      batched.close();
    }
    return run.result("batched");
  }
  await portableLoop(run, target);
  return run.result("portable");
}

/** Fills the window in batches; returns the time after the last send. */
function refill(run: UdpLoadRun, sock: BatchedUdp, now: number): number {
  let room = run.room();
  while (room > 0) {
    const n = Math.min(room, BATCH);
    const t = run.meter.mark();
    const sent = sock.send(n);
    now = run.meter.sent(t);
    run.sending(sent, t);
    if (sent < n) run.counters.sendErrors++;
    if (sent === 0) break; // an ICMP error or a full buffer: the loss time-out refills
    room -= sent;
  }
  return now;
}

/** One wake-up and `recvmmsg` per batch of replies, one `sendmmsg` per batch of requests. */
async function batchedLoop(run: UdpLoadRun, sock: BatchedUdp): Promise<void> {
  const { options } = run;
  const stop = () => sock.close(); // the pending receive resolves to null
  const endTimer = setTimeout(stop, options.durationMs);
  // A request older than the time-out is lost; its slot gets a new request.
  const lossTimer = setInterval(() => {
    const now = performance.now();
    if (run.expire(now) > 0 && !run.over(now)) refill(run, sock, now);
  }, Math.max(5, Math.min(250, run.timeoutMs / 4)));
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    if (!options.signal?.aborted) refill(run, sock, performance.now());
    while (true) {
      const n = await sock.receive();
      if (n === null) break;
      const t = run.meter.mark();
      for (let i = 0; i < n; i++) run.reply(t);
      run.meter.received(t);
      if (run.over(t)) break;
      refill(run, sock, t); // the replies' arrival time is the new requests' send time
    }
  } finally {
    clearTimeout(endTimer);
    clearInterval(lossTimer);
    options.signal?.removeEventListener("abort", stop);
  }
}

/** Deno's DatagramConn: one op per datagram each way. */
async function portableLoop(run: UdpLoadRun, target: HostPort): Promise<void> {
  const conn = bindUdp({ hostname: target.hostname.includes(":") ? "::" : "0.0.0.0", port: 0 });
  const to: Deno.NetAddr = { transport: "udp", hostname: target.hostname, port: target.port };
  const { counters, options } = run;
  const buffer = new Uint8Array(MAX_DATAGRAM + 1);
  const sendFailed = () => void counters.sendErrors++;
  const send = (n: number, now: number) => {
    run.sending(n, now);
    // Not awaited: the window, not the send, limits what is outstanding.
    for (let i = 0; i < n; i++) conn.send(options.payload, to).catch(sendFailed);
  };
  let closed = false;
  const stop = () => {
    closed = true;
    closeQuietly(conn); // the pending receive rejects and the loop ends
  };
  const endTimer = setTimeout(stop, options.durationMs);
  // A request older than the time-out is lost; its slot gets a new request.
  const lossTimer = setInterval(() => {
    const now = performance.now();
    if (run.expire(now) > 0 && !run.over(now)) send(run.room(), now);
  }, Math.max(5, Math.min(250, run.timeoutMs / 4)));
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    if (!options.signal?.aborted) send(run.room(), performance.now());
    while (!run.over(performance.now())) {
      if (!await receiveOne(run, conn, buffer, target.port, () => closed)) break;
      const now = run.meter.mark();
      if (run.over(now)) break;
      send(1, now); // the reply's arrival time is the new request's send time
      run.meter.sent(now);
    }
  } finally {
    clearTimeout(endTimer);
    clearInterval(lossTimer);
    options.signal?.removeEventListener("abort", stop);
    stop();
  }
}

/** Receives one datagram and counts it; false once the socket is closed. */
async function receiveOne(
  run: UdpLoadRun,
  conn: Deno.DatagramConn,
  buffer: Uint8Array,
  port: number,
  closed: () => boolean,
): Promise<boolean> {
  while (true) {
    let from: Deno.NetAddr;
    try {
      from = (await conn.receive(buffer))[1] as Deno.NetAddr;
    } catch (err) {
      if (closed()) return false;
      // ICMP errors can surface on the next receive; the request is lost, not the run.
      if (err instanceof Deno.errors.ConnectionRefused) continue;
      throw err;
    }
    const t = run.meter.mark();
    if (from.port !== port) {
      run.counters.stray++;
      continue;
    }
    run.reply(t);
    run.meter.received(t);
    return true;
  }
}

function closeQuietly(conn: Deno.DatagramConn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
