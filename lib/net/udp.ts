/**
 * UDP sockets for clients and servers: binding with clear errors, and
 * request/reply with a time-out and retries. Deno has no receive time-out, so a
 * socket keeps at most one pending `receive()` and later waits reuse it.
 *
 * @example
 * ```ts
 * import { UdpSocket } from "./udp.ts";
 * await using sock = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
 * // const r = await sock.request("hello", { hostname: "127.0.0.1", port: 1501 }, { timeoutMs: 500 });
 * ```
 * @module
 */
import { FailError } from "../cli/errors.ts";
import { after } from "../cli/timer.ts";
import { formatHostPort, type HostPort } from "./address.ts";
import { RefusedWatch, watchStep } from "./udp_refused.ts";

/** Default UDP client time-out per try, in milliseconds (SPEC §1). */
export const DEFAULT_TIMEOUT_MS = 2000;
/** Default number of retries after the first try (SPEC §1). */
export const DEFAULT_RETRIES = 2;
/** Largest UDP payload over IPv4. */
export const MAX_DATAGRAM = 65507;

const encoder = new TextEncoder();

/** Options of {@linkcode UdpSocket.request}. */
export interface RequestOptions {
  /** Time to wait for a reply on each try (default {@linkcode DEFAULT_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Tries after the first (default {@linkcode DEFAULT_RETRIES}). */
  retries?: number;
  /** Aborts the wait. */
  signal?: AbortSignal;
  /** Name for the error message (default the target address). */
  label?: string;
  /**
   * Decides whether a datagram is the reply (default: it comes from the target's
   * port). Others are dropped, so stale replies to an earlier try are skipped.
   */
  accept?: (data: Uint8Array, from: Deno.NetAddr) => boolean;
}

/** A reply to {@linkcode UdpSocket.request}. */
export interface Reply {
  data: Uint8Array;
  from: Deno.NetAddr;
  /** How many sends it took (1 = no retry). */
  tries: number;
  /** Milliseconds from the last send to the reply. */
  rttMs: number;
}

/** Binds a UDP socket; a busy port or bad address becomes one FailError line. */
export function bindUdp(addr: HostPort): Deno.DatagramConn {
  try {
    return Deno.listenDatagram({ transport: "udp", hostname: addr.hostname, port: addr.port });
  } catch (err) {
    throw new FailError(
      `cannot bind UDP ${formatHostPort(addr.hostname, addr.port)}: ${reason(err)}`,
    );
  }
}

/** A short reason for a socket error ("address already in use"). */
export function reason(err: unknown): string {
  if (err instanceof Deno.errors.AddrInUse) return "address already in use";
  if (err instanceof Deno.errors.AddrNotAvailable) return "address not available";
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.ConnectionRefused) return "connection refused";
  if (err instanceof Deno.errors.TimedOut) return "timed out";
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/ \(os error \d+\)$/, "").split("\n")[0];
}

/** The server's port answered "port unreachable": nothing listens there (exit 1). */
export class RefusedError extends FailError {
  constructor(label: string) {
    super(`no reply from ${label}: connection refused (nothing listens on that port)`);
    this.name = "RefusedError";
  }
}

/** A UDP socket with a single reusable pending receive. */
export class UdpSocket implements AsyncDisposable {
  readonly conn: Deno.DatagramConn;
  #pending: Promise<[Uint8Array, Deno.Addr]> | undefined;
  #closed = false;
  /** Watches for "port unreachable" (client sockets only; null elsewhere or unavailable). */
  readonly #watch: RefusedWatch | null;

  /**
   * Wraps `conn`. With `watchRefused` (a socket only this client uses), a
   * request to a closed port fails at once with {@linkcode RefusedError}.
   */
  constructor(conn: Deno.DatagramConn, options: { watchRefused?: boolean } = {}) {
    this.conn = conn;
    // Turned on before the first send: an ICMP error that arrives earlier is lost.
    this.#watch = options.watchRefused ? RefusedWatch.open(conn) ?? null : null;
  }

  /** Binds a new socket (port 0 = any free port). */
  static bind(addr: HostPort, options: { watchRefused?: boolean } = {}): UdpSocket {
    return new UdpSocket(bindUdp(addr), options);
  }

  /**
   * Binds an ephemeral client socket of the right family to reach `target`;
   * it notices a closed port at once.
   */
  static forTarget(target: string): UdpSocket {
    const hostname = target.includes(":") ? "::" : "0.0.0.0";
    return UdpSocket.bind({ hostname, port: 0 }, { watchRefused: true });
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.conn.addr as Deno.NetAddr;
  }

  /** Sends one datagram (text is UTF-8 encoded). */
  async send(data: Uint8Array | string, to: HostPort): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    await this.conn.send(bytes, { transport: "udp", hostname: to.hostname, port: to.port });
  }

  /**
   * Waits up to `timeoutMs` for the next datagram; `null` on time-out. The
   * underlying receive stays pending for the next call, so nothing is lost.
   */
  async receive(
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<[Uint8Array, Deno.NetAddr] | null> {
    this.#pending ??= this.conn.receive();
    const pending = this.#pending;
    let cancelTimer: (() => void) | undefined;
    let onAbort: (() => void) | undefined;
    const timeout = new Promise<null>((resolve, reject) => {
      // Not setTimeout: its first call loads Deno's Node layer (~13 ms of a client's start-up).
      cancelTimer = after(timeoutMs, () => resolve(null));
      if (signal) {
        onAbort = () => reject(signal.reason ?? new DOMException("aborted", "AbortError"));
        if (signal.aborted) onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
      }
    });
    let failed = false;
    const received = pending.catch((err) => {
      failed = true;
      throw err;
    });
    try {
      const result = await Promise.race([received, timeout]);
      if (result === null) return null;
      this.#pending = undefined;
      return result as [Uint8Array, Deno.NetAddr];
    } catch (err) {
      // A failed receive (an ICMP error, say) is over: the next call starts a new one.
      if (failed && this.#pending === pending) this.#pending = undefined;
      throw err;
    } finally {
      cancelTimer?.();
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Sends `payload` to `to` and waits for the reply, resending after each
   * time-out. Throws FailError `no reply from HOST:PORT after N tries`.
   * `payload` may be a function of the try number (1, 2, ...) for protocols
   * whose every try carries its own stamp (an SNTP transmit timestamp).
   */
  async request(
    payload: Uint8Array | string | ((attempt: number) => Uint8Array | string),
    to: HostPort,
    options: RequestOptions = {},
  ): Promise<Reply> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const tries = (options.retries ?? DEFAULT_RETRIES) + 1;
    const accept = options.accept ?? ((_d, from) => from.port === to.port);
    const label = options.label ?? formatHostPort(to.hostname, to.port);
    const watch = this.#watch;
    for (let attempt = 1; attempt <= tries; attempt++) {
      const bytes = typeof payload === "function" ? payload(attempt) : payload;
      watch?.drain();
      const sentAt = performance.now();
      await this.send(bytes, to);
      const got = await this.#awaitReply(sentAt + timeoutMs, accept, to, label, options.signal);
      if (got) return { ...got, tries: attempt, rttMs: performance.now() - sentAt };
    }
    throw new FailError(`no reply from ${label} after ${tries} ${tries === 1 ? "try" : "tries"}`);
  }

  /**
   * Waits until `deadline` for an accepted datagram from `to`; `null` on
   * time-out; {@linkcode RefusedError} when `to` turns out unreachable.
   */
  async #awaitReply(
    deadline: number,
    accept: NonNullable<RequestOptions["accept"]>,
    to: HostPort,
    label: string,
    signal?: AbortSignal,
  ): Promise<{ data: Uint8Array; from: Deno.NetAddr } | null> {
    while (true) {
      const got = await this.receiveWatching(deadline - performance.now(), to, label, signal);
      if (got === null) return null;
      if (accept(got[0], got[1])) return { data: got[0], from: got[1] };
    }
  }

  /**
   * Like {@linkcode receive}, but a client socket (`forTarget`) also notices
   * an ICMP "unreachable" for a datagram it sent to `to` — it looks at the
   * error queue between short waits — and throws {@linkcode RefusedError}
   * (`label` names the peer) instead of waiting out the time-out.
   */
  async receiveWatching(
    timeoutMs: number,
    to: HostPort,
    label: string,
    signal?: AbortSignal,
  ): Promise<[Uint8Array, Deno.NetAddr] | null> {
    const watch = this.#watch;
    const deadline = performance.now() + timeoutMs;
    for (let k = 0;; k++) {
      const left = deadline - performance.now();
      if (left <= 0) return null;
      let got: [Uint8Array, Deno.NetAddr] | null = null;
      try {
        got = await this.receive(watch ? Math.min(left, watchStep(k)) : left, signal);
      } catch (err) {
        // The kernel hands a pending ICMP error to the next receive; the queue says whose.
        if (!(err instanceof Deno.errors.ConnectionRefused) || !watch) throw err;
      }
      if (got !== null) return got;
      if (watch?.unreachable(to)) throw new RefusedError(label);
    }
  }

  /** Closes the socket and lets a pending receive settle. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    if (this.#pending) await this.#pending.catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
