/**
 * The UDP serve loop every datagram service runs: receive into one reused
 * buffer, hand the bytes to a handler, send its reply without awaiting each
 * send (bounded), stop when the signal aborts. Handlers are plain functions, so
 * the protocol stays pure and testable without sockets.
 *
 * On Linux with FFI allowed (socklab runs with every permission) the same
 * loop runs on batched system calls, `recvmmsg`/`sendmmsg` on the very socket
 * passed in (lib/net/udp_fast.ts): Deno's async receive only wakes it, and
 * everything queued behind the first datagram is read and answered without a
 * promise per datagram. Measured under the lecture's udp_load at 64 requests
 * in flight, that is 3-4x the rate of the portable loop and about the C echo's
 * CPU time per reply (bench/udp_services.ts). Elsewhere, or with
 * `mechanism: "portable"` / `SOCKLAB_UDP=portable`, the portable loop runs.
 *
 * @example
 * ```ts
 * import { serveUdp } from "./udp_serve.ts";
 * const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * const ac = new AbortController();
 * const done = serveUdp(conn, (data) => data.slice(), { signal: ac.signal }); // echo
 * ac.abort();
 * await done;
 * ```
 * @module
 */
import { MAX_DATAGRAM } from "./udp.ts";
import { openFastUdp, runFastUdp } from "./udp_fast.ts";
import type { ServiceMonitor } from "./monitor.ts";
import {
  type GuardedHandler,
  type GuardedReply,
  guardReplies,
  type PlainHandler,
  ValidatedReply,
} from "./udp_guard.ts";

const encoder = new TextEncoder();

/**
 * Handles one datagram. `data` is only valid until the handler returns (the
 * buffer is reused): copy it to keep it. Returns the reply, or nothing to stay silent.
 */
export type UdpHandler = GuardedHandler;

/**
 * What a handler answers: bytes, text (UTF-8), a {@linkcode ValidatedReply}
 * (a source that echoed its cookie: exempt from the amplification budget),
 * or nothing.
 */
export type UdpReply = GuardedReply;

export { ValidatedReply };

/** Options of {@linkcode serveUdp}. */
export interface ServeUdpOptions {
  /** Stops the loop and closes the socket. */
  signal?: AbortSignal;
  /** Largest datagram read whole (default 65,507; longer ones are cut by the kernel). */
  maxDatagram?: number;
  /** Sends allowed in flight before the loop waits for them (default 256). */
  maxInFlight?: number;
  /** Counts requests, error replies and service time (the lab console). */
  monitor?: ServiceMonitor;
  /** Told about a handler or send failure, or a reply dropped as an amplification; the loop keeps serving. */
  onError?: (err: unknown, from: Deno.NetAddr | undefined) => void;
  /**
   * `"auto"` (default): batched system calls on Linux when FFI is allowed
   * (lib/net/udp_fast.ts), else the portable loop; `"portable"`: always Deno's
   * own receive/send. The environment variable `SOCKLAB_UDP=portable` forces it too.
   */
  mechanism?: "auto" | "portable";
}

/**
 * Serves `conn` until `signal` aborts; then closes it and resolves. A handler
 * error or a failed send is reported to `onError` and never stops the loop.
 */
export async function serveUdp(
  conn: Deno.DatagramConn,
  serviceHandler: UdpHandler,
  options: ServeUdpOptions = {},
): Promise<void> {
  const handler = guardReplies(serviceHandler, options);
  const loop = {
    signal: options.signal,
    maxDatagram: options.maxDatagram ?? MAX_DATAGRAM,
    onError: options.onError ?? (() => {}),
  };
  if (options.mechanism !== "portable") {
    const fast = openFastUdp(conn);
    if (fast) return await runFastUdp(conn, fast, handler, loop);
  }
  await runPortableUdp(conn, handler, { ...loop, maxInFlight: options.maxInFlight ?? 256 });
}

/** Sends not awaited one by one, at most `max` in flight. */
class SendWindow {
  readonly #max: number;
  #inFlight = 0;
  #waiting: (() => void) | undefined;

  constructor(max: number) {
    this.#max = max;
  }

  /** Counts `send` until it settles; `onFail` hears a failure. */
  track(send: Promise<number>, onFail: (err: unknown) => void): void {
    this.#inFlight++;
    send.then(() => this.#settled(), (err) => {
      this.#settled();
      onFail(err);
    });
  }

  /** True when `max` sends are in flight. */
  get full(): boolean {
    return this.#inFlight >= this.#max;
  }

  /** Resolves once fewer than `max` sends are in flight. */
  async room(): Promise<void> {
    while (this.#inFlight >= this.#max) await new Promise<void>((r) => (this.#waiting = r));
  }

  /** Resolves once every send has settled. */
  async empty(): Promise<void> {
    while (this.#inFlight > 0) await new Promise<void>((r) => (this.#waiting = r));
  }

  #settled(): void {
    this.#inFlight--;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }
}

/** Options of {@linkcode runPortableUdp}. */
interface PortableOptions {
  signal?: AbortSignal;
  maxDatagram: number;
  maxInFlight: number;
  onError: (err: unknown, from: Deno.NetAddr | undefined) => void;
}

/** The portable loop: Deno's own receive and send, one datagram at a time. */
async function runPortableUdp(
  conn: Deno.DatagramConn,
  handler: PlainHandler,
  options: PortableOptions,
): Promise<void> {
  const { signal, onError } = options;
  const buffer = new Uint8Array(options.maxDatagram + 1);
  const sends = new SendWindow(options.maxInFlight);
  const onAbort = () => closeQuietly(conn);
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal?.aborted) {
      let got: [Uint8Array, Deno.NetAddr];
      try {
        got = (await conn.receive(buffer)) as [Uint8Array, Deno.NetAddr];
      } catch (err) {
        if (signal?.aborted || err instanceof Deno.errors.BadResource) break;
        onError(err, undefined);
        continue;
      }
      const [data, from] = got;
      let reply = answer(handler, data, from, onError);
      if (reply instanceof Promise) reply = await reply;
      if (reply === undefined) continue;
      // An async send borrows the bytes: never let it alias the reused buffer.
      const bytes = reply.buffer === buffer.buffer ? reply.slice() : reply;
      sends.track(conn.send(bytes, from), (err) => {
        if (!signal?.aborted) onError(err, from);
      });
      if (sends.full) await sends.room();
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    onAbort();
    await sends.empty();
  }
}

/**
 * The handler's reply as bytes, or `undefined` for silence or an error
 * (reported); a promise only when the handler is async.
 */
function answer(
  handler: PlainHandler,
  data: Uint8Array,
  from: Deno.NetAddr,
  onError: (err: unknown, from: Deno.NetAddr | undefined) => void,
): Uint8Array | undefined | Promise<Uint8Array | undefined> {
  const failed = (err: unknown) => {
    onError(err, from);
    return undefined;
  };
  try {
    const reply = handler(data, from);
    return reply instanceof Promise ? reply.then(toBytes, failed) : toBytes(reply);
  } catch (err) {
    return failed(err);
  }
}

function toBytes(reply: Uint8Array | string | null | undefined | void): Uint8Array | undefined {
  if (reply === null || reply === undefined) return undefined;
  return typeof reply === "string" ? encoder.encode(reply) : reply;
}

function closeQuietly(conn: Deno.DatagramConn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
