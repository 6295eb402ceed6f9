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
  const { signal } = options;
  const handler = guardReplies(serviceHandler, options);
  if (options.mechanism !== "portable") {
    const fast = openFastUdp(conn);
    if (fast) {
      return await runFastUdp(conn, fast, handler, {
        signal,
        maxDatagram: options.maxDatagram ?? MAX_DATAGRAM,
        onError: options.onError ?? (() => {}),
      });
    }
  }
  const buffer = new Uint8Array((options.maxDatagram ?? MAX_DATAGRAM) + 1);
  const maxInFlight = options.maxInFlight ?? 256;
  const onError = options.onError ?? (() => {});
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const sendDone = () => {
    inFlight--;
    if (drained && inFlight < maxInFlight) {
      drained();
      drained = undefined;
    }
  };
  const onAbort = () => {
    try {
      conn.close();
    } catch {
      // already closed
    }
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal?.aborted) {
      let data: Uint8Array;
      let from: Deno.NetAddr;
      try {
        [data, from] = (await conn.receive(buffer)) as [Uint8Array, Deno.NetAddr];
      } catch (err) {
        if (signal?.aborted || err instanceof Deno.errors.BadResource) break;
        onError(err, undefined);
        continue;
      }
      let reply: Awaited<ReturnType<typeof handler>>;
      try {
        const r = handler(data, from);
        reply = r instanceof Promise ? await r : r;
      } catch (err) {
        onError(err, from);
        continue;
      }
      if (reply === null || reply === undefined) continue;
      let bytes = typeof reply === "string" ? encoder.encode(reply) : reply;
      // An async send borrows the bytes: never let it alias the reused buffer.
      if (bytes.buffer === buffer.buffer) bytes = bytes.slice();
      inFlight++;
      conn.send(bytes, from).then(sendDone, (err) => {
        sendDone();
        if (!signal?.aborted) onError(err, from);
      });
      if (inFlight >= maxInFlight) {
        await new Promise<void>((resolve) => (drained = resolve));
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    onAbort();
    while (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
  }
}
