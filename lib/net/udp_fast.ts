/**
 * The Linux fast path of {@linkcode serveUdp}: batch system calls through FFI.
 * Deno's `DatagramConn` costs one async op and one event-loop turn per
 * datagram each way; here Deno's receive is only the wake-up, and whatever
 * else is queued on the socket is read with one `recvmmsg(2)` into reused
 * buffers, handed to the handler, and answered with one `sendmmsg(2)` — no
 * promise and no allocation per datagram beyond the handler's own.
 *
 * It works on the very socket the caller bound (a `dup(2)` of its descriptor,
 * found through /proc), so the API and behaviour of `serveUdp` stay the same;
 * while it runs, the conn's own `send()` (which handlers may call) is routed
 * through the same descriptor so that every datagram leaves in program order.
 * When anything it needs is missing (not Linux, no FFI permission, no libc,
 * the descriptor not found) it is simply not used: {@linkcode openFastUdp}
 * returns `undefined` and the portable loop runs. `SOCKLAB_UDP=portable`
 * forces the portable loop.
 * @module
 */

import type { PlainHandler } from "./udp_guard.ts";
import { BATCH, ReceiveRing, ReplyBatch } from "./udp_batch.ts";
import { formatIPv6, NAME, parseIpBytes, SockaddrCodec } from "./udp_sockaddr.ts";
import { errnoOf, libcLoader, type LibcSymbols, MSG_DONTWAIT } from "./libc.ts";
import { findSocketFd } from "./socket_fd.ts";

export { BATCH, formatIPv6, parseIpBytes };

const EINTR = 4;
/** Batches read per wake-up before Deno's receive gets a turn again. */
const DRAIN_ROUNDS = 8;

const SYMBOLS = {
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  dup: { parameters: ["i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

type Libc = LibcSymbols<typeof SYMBOLS>;

const loadLibc = libcLoader(SYMBOLS);

/** True when `SOCKLAB_UDP=portable` turns the batched paths off (here and in `socklab bench udp`). */
export function portableForced(): boolean {
  try {
    return Deno.env.get("SOCKLAB_UDP") === "portable";
  } catch {
    return false; // no env permission: nothing was asked
  }
}

/** Options of {@linkcode runFastUdp}, as serveUdp passes them. */
export interface FastUdpOptions {
  signal?: AbortSignal;
  maxDatagram: number;
  onError: (err: unknown, from: Deno.NetAddr | undefined) => void;
}

/** What {@linkcode openFastUdp} hands back: the duplicated descriptor and libc. */
export interface FastUdp {
  fd: number;
  lib: Libc;
}

/** Opens the fast path for `conn`, or `undefined` when it cannot be used here. */
export function openFastUdp(conn: Deno.DatagramConn): FastUdp | undefined {
  if (portableForced()) return undefined;
  const lib = loadLibc();
  if (!lib) return undefined;
  const found = findSocketFd("udp", (conn.addr as Deno.NetAddr).port);
  if (found === undefined) return undefined;
  const fd = lib.dup(found);
  return fd >= 0 ? { fd, lib } : undefined;
}

/** Buffers handed to the kernel by pointer, kept reachable while a loop runs. */
const PINNED = new Set<Uint8Array[]>();

/**
 * Serves `conn` with batched system calls until the signal aborts (then
 * closes `conn` and the duplicated descriptor). The handler sees the same
 * calls as in the portable loop: one datagram at a time, in order, with its
 * sender; an async handler is awaited before the next datagram is handed over.
 */
export async function runFastUdp(
  conn: Deno.DatagramConn,
  fast: FastUdp,
  handler: PlainHandler,
  options: FastUdpOptions,
): Promise<void> {
  try {
    await new BatchedServer(conn, fast, handler, options).run();
  } finally {
    // Whatever happened, the duplicate goes: it alone would keep the port bound.
    fast.lib.close(fast.fd);
  }
}

const encoder = new TextEncoder();

function closeQuietly(conn: Deno.DatagramConn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/**
 * One run of the fast path. Each wake-up is one datagram from Deno's own
 * receive (answered at once); then whatever else is queued is read BATCH at a
 * time with recvmmsg, handed to the handler in order, and answered with one
 * sendmmsg per batch.
 */
class BatchedServer {
  readonly #conn: Deno.DatagramConn;
  readonly #lib: Libc;
  readonly #fd: number;
  readonly #handler: PlainHandler;
  readonly #onError: FastUdpOptions["onError"];
  readonly #signal: AbortSignal | undefined;
  readonly #ring: ReceiveRing;
  readonly #replies: ReplyBatch;
  readonly #codec: SockaddrCodec;
  /** Deno's receive buffer (the wake-up datagram). */
  readonly #first: Uint8Array;
  /** The conn's own send, before {@linkcode BatchedServer.routeSends} replaces it. */
  readonly #denoSend: Deno.DatagramConn["send"];
  #wakes = 0;
  #emptyDrains = 0;

  constructor(
    conn: Deno.DatagramConn,
    fast: FastUdp,
    handler: PlainHandler,
    options: FastUdpOptions,
  ) {
    this.#conn = conn;
    this.#lib = fast.lib;
    this.#fd = fast.fd;
    this.#handler = handler;
    this.#onError = options.onError;
    this.#signal = options.signal;
    const slot = options.maxDatagram + 1;
    this.#codec = new SockaddrCodec((conn.addr as Deno.NetAddr).hostname.includes(":"));
    this.#ring = new ReceiveRing(slot);
    this.#replies = new ReplyBatch(this.#codec.length);
    this.#first = new Uint8Array(slot);
    this.#denoSend = conn.send.bind(conn);
  }

  /** Serves until the signal aborts or the socket closes. */
  async run(): Promise<void> {
    // The kernel reaches these only through raw pointers: they must stay
    // reachable from JavaScript for as long as the loop runs, or the garbage
    // collector frees memory that recvmmsg then writes into.
    const pinned = [...this.#ring.buffers, ...this.#replies.buffers];
    PINNED.add(pinned);
    const restoreSend = this.routeSends();
    const onAbort = () => closeQuietly(this.#conn);
    if (this.#signal?.aborted) onAbort();
    this.#signal?.addEventListener("abort", onAbort, { once: true });
    try {
      while (!this.#signal?.aborted) {
        const got = await this.#wake();
        if (got === null) break;
        if (got === undefined) continue;
        await this.#serveFirst(got[0], got[1]);
        if (this.#shouldDrain()) await this.#drain();
        this.#flush();
      }
    } finally {
      this.#signal?.removeEventListener("abort", onAbort);
      onAbort();
      restoreSend();
      PINNED.delete(pinned); // only now: no system call of this loop can use them any more
    }
  }

  /**
   * The next datagram from Deno's receive; `null` once the socket is closed,
   * `undefined` after a receive error (reported; the loop goes on).
   */
  async #wake(): Promise<[Uint8Array, Deno.NetAddr] | null | undefined> {
    try {
      return (await this.#conn.receive(this.#first)) as [Uint8Array, Deno.NetAddr];
    } catch (err) {
      if (this.#signal?.aborted || err instanceof Deno.errors.BadResource) return null;
      this.#onError(err, undefined);
      return undefined;
    }
  }

  /**
   * Answers the wake-up datagram. Under load (the last drain found more) the
   * reply leaves with the first batch drained after it, one system call
   * fewer per wake-up; when requests come one at a time it leaves at once.
   */
  async #serveFirst(data: Uint8Array, from: Deno.NetAddr): Promise<void> {
    if (!this.#codec.write(from, this.#ring.names, BATCH * NAME)) {
      return await servePortable(this.#conn, this.#handler, data, from, this.#onError);
    }
    const waiting = this.#handle(data, from, this.#ring.nameAt(BATCH));
    if (waiting) await waiting;
    if (this.#emptyDrains > 0) this.#flush();
  }

  /**
   * With one request at a time there never is anything queued behind the
   * wake-up datagram: after a run of empty drains, only every 8th wake-up
   * looks (one system call saved per request).
   */
  #shouldDrain(): boolean {
    this.#wakes++;
    return this.#emptyDrains < 4 || (this.#wakes & 7) === 0;
  }

  /**
   * Reads and answers what is queued, a bounded number of batches. A batch
   * that was not full does not end it: under load the peers send more while
   * one is answered, and reading it here is cheaper than a wake-up through Deno.
   */
  async #drain(): Promise<void> {
    for (let round = 0; round < DRAIN_ROUNDS && !this.#signal?.aborted; round++) {
      this.#ring.reset();
      const n = this.#lib.recvmmsg(this.#fd, this.#ring.headers, BATCH, MSG_DONTWAIT, null);
      if (round === 0) this.#emptyDrains = n > 0 ? 0 : Math.min(this.#emptyDrains + 1, 4);
      if (n <= 0) return;
      for (let i = 0; i < n; i++) {
        const from = this.#codec.decode(this.#ring.names, i * NAME);
        const waiting = this.#handle(this.#ring.datagram(i), from, this.#ring.nameAt(i));
        if (waiting) await waiting;
      }
      this.#flush(); // the received slots are reused by the next recvmmsg
    }
  }

  /** Hands one datagram to the handler; a promise only when the handler is async. */
  #handle(bytes: Uint8Array, from: Deno.NetAddr, nameAt: number): Promise<void> | undefined {
    let reply: ReturnType<PlainHandler>;
    try {
      reply = this.#handler(bytes, from);
      if (!(reply instanceof Promise)) {
        this.#queue(reply, nameAt, from);
        return undefined;
      }
    } catch (err) {
      this.#onError(err, from);
      return undefined;
    }
    this.#flush(); // keep replies in order around an async handler
    return reply.then((r) => this.#queue(r, nameAt, from)).catch((err) => this.#onError(err, from));
  }

  /** Queues a reply for the next sendmmsg (sending the batch when it is full). */
  #queue(reply: unknown, nameAt: number, from: Deno.NetAddr): void {
    if (reply === null || reply === undefined) return;
    if (typeof reply !== "string" && !(reply instanceof Uint8Array)) {
      throw new TypeError("a UDP handler must return bytes, text or nothing");
    }
    if (!this.#replies.fits(reply)) this.#flush();
    if (!this.#replies.fits(reply)) {
      // Larger than the whole arena, so larger than any datagram: Deno says why not.
      const bytes = typeof reply === "string" ? encoder.encode(reply) : reply.slice();
      this.#denoSend(bytes, from).catch((err) => this.#onError(err, from));
      return;
    }
    this.#replies.add(reply, nameAt, from);
    if (this.#replies.count === BATCH) this.#flush();
  }

  /** Sends every queued reply: one sendmmsg, more only when the kernel takes part of them. */
  #flush(): void {
    const batch = this.#replies;
    for (let sent = 0; sent < batch.count;) {
      const headers = sent === 0 ? batch.headers : batch.headersFrom(sent);
      const n = this.#lib.sendmmsg(this.#fd, headers, batch.count - sent, MSG_DONTWAIT);
      if (n > 0) {
        sent += n;
        continue;
      }
      if (errnoOf(this.#lib) === EINTR) continue;
      // The send buffer is full (EAGAIN), or this datagram fails: hand it to Deno,
      // which waits for room or reports the error in its own words, and go on.
      const to = batch.peers[sent];
      this.#denoSend(batch.copy(sent), to).catch((err) => {
        if (!this.#signal?.aborted) this.#onError(err, to);
      });
      sent++;
    }
    batch.clear();
  }

  /**
   * Deno polls same-tick sends last-in first-out (20 unawaited sends arrive
   * reversed), and a batch runs many handlers in one tick. So while the loop
   * runs, the conn's own send() — which handlers may call, e.g. to broadcast —
   * goes out at once, in program order, after the replies already queued.
   * Returns the function that puts Deno's send back.
   */
  routeSends(): () => void {
    const ordered = (data: Uint8Array, addr: Deno.Addr): Promise<number> => {
      const name = addr.transport === "udp" ? this.#codec.encode(addr as Deno.NetAddr) : undefined;
      if (name) {
        this.#flush();
        const n = this.#lib.sendto(
          this.#fd,
          data,
          BigInt(data.length),
          MSG_DONTWAIT,
          name,
          this.#codec.length,
        );
        if (n >= 0) return Promise.resolve(Number(n));
      }
      return this.#denoSend(data, addr);
    };
    try {
      Object.defineProperty(this.#conn, "send", {
        value: ordered,
        configurable: true,
        writable: true,
      });
    } catch {
      return () => {}; // a frozen conn: its sends keep Deno's order
    }
    return () => delete (this.#conn as { send?: unknown }).send;
  }
}

/** Answers one datagram through Deno (a sender address the fast path cannot encode). */
async function servePortable(
  conn: Deno.DatagramConn,
  handler: PlainHandler,
  bytes: Uint8Array,
  from: Deno.NetAddr,
  onError: (err: unknown, from: Deno.NetAddr | undefined) => void,
): Promise<void> {
  try {
    let reply = handler(bytes, from);
    if (reply instanceof Promise) reply = await reply;
    if (reply === null || reply === undefined) return;
    const out = typeof reply === "string" ? encoder.encode(reply) : (reply as Uint8Array).slice();
    await conn.send(out, from);
  } catch (err) {
    onError(err, from);
  }
}
