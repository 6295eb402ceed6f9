/**
 * One UDP request/reply for `socklab dns`, the way dig and the C library's
 * stub resolver do it: a socket `connect(2)`ed to the server, so the kernel
 * delivers only that server's datagrams and reports its ICMP "port
 * unreachable" as ECONNREFUSED on the next receive. Built on libc through FFI
 * (socket, connect, send, poll, recv); Deno's `DatagramConn` cannot connect,
 * and its unconnected client path (lib/net/udp.ts) needs a descriptor search
 * in /proc and an error-queue watch to learn the same thing, which cost a
 * look-up a tenth of Deno's start-up. The wait is a blocking `poll(2)`, as
 * dig's: a look-up has nothing else to do meanwhile, takes no signal
 * listener (SIGINT ends it at once), and a call on Deno's blocking pool
 * would start a thread for it. Where FFI or libc is missing,
 * {@linkcode openExchange} falls back to a Deno datagram socket.
 *
 * @example
 * ```ts ignore
 * import { openExchange } from "./udp_exchange.ts";
 * const ex = openExchange({ hostname: "127.0.0.1", port: 53 });
 * const r = await ex.request(packet, 2000, (data) => data[0] === packet[0]);
 * ex.close();
 * ```
 * @module
 */
import { after } from "../cli/timer.ts";
import type { HostPort } from "../net/address.ts";
import {
  AF_INET,
  AF_INET6,
  errnoOf,
  libcLoader,
  type LibcSymbols,
  MSG_DONTWAIT,
} from "../net/libc.ts";
import { pton } from "./inet.ts";

/** What one try got: the reply and its round trip, "refused", or null on time-out. */
export type ExchangeResult = { data: Uint8Array; rttMs: number } | "refused" | null;

/** A UDP socket talking to one server. */
export interface Exchange {
  /** Sends `packet`, then waits up to `timeoutMs` for a datagram `accept` takes. */
  request(
    packet: Uint8Array,
    timeoutMs: number,
    accept: (data: Uint8Array) => boolean,
  ): Promise<ExchangeResult>;
  close(): void;
}

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
} as const;

type Libc = LibcSymbols<typeof SYMBOLS>;

const SOCK_DGRAM_CLOEXEC = 2 | 0x80000;
const POLLIN = 1;
const EINTR = 4;
const EAGAIN = 11;
const ECONNREFUSED = 111;
/** Largest reply read (a UDP datagram's maximum). */
const MAX_REPLY = 65535;

const libc = libcLoader(SYMBOLS);

/**
 * `struct sockaddr_in`/`sockaddr_in6` for an address literal (an IPv6 zone
 * by number or interface name), or null for anything else.
 */
export function sockaddr(target: HostPort, indexOf: (name: string) => number): Uint8Array | null {
  const [literal, zone] = target.hostname.split("%");
  const parsed = pton(literal);
  if (!parsed) return null;
  const out = new Uint8Array(parsed.family === 4 ? 16 : 28);
  const view = new DataView(out.buffer);
  view.setUint16(0, parsed.family === 4 ? AF_INET : AF_INET6, true);
  view.setUint16(2, target.port); // network order
  if (parsed.family === 4) {
    out.set(parsed.bytes, 4);
    return out;
  }
  out.set(parsed.bytes, 8);
  if (zone !== undefined) {
    const scope = /^[0-9]+$/.test(zone) ? Number(zone) : indexOf(zone);
    if (!scope) return null;
    view.setUint32(24, scope, true);
  }
  return out;
}

/** The libc exchange: a connected socket, read with poll + non-blocking recv. */
class ConnectedExchange implements Exchange {
  readonly #buf = new Uint8Array(MAX_REPLY);
  readonly #pollfd = new Uint8Array(8);
  constructor(readonly c: Libc, readonly fd: number) {
    const view = new DataView(this.#pollfd.buffer);
    view.setInt32(0, fd, true);
    view.setInt16(4, POLLIN, true);
  }

  request(
    packet: Uint8Array,
    timeoutMs: number,
    accept: (d: Uint8Array) => boolean,
  ): Promise<ExchangeResult> {
    return Promise.resolve(this.#exchange(packet, timeoutMs, accept));
  }

  #exchange(packet: Uint8Array, timeoutMs: number, accept: (d: Uint8Array) => boolean) {
    const sentAt = performance.now();
    if (Number(this.c.send(this.fd, packet, BigInt(packet.length), 0)) < 0) {
      return errnoOf(this.c) === ECONNREFUSED ? "refused" : null;
    }
    const deadline = sentAt + timeoutMs;
    for (let left = timeoutMs; left > 0; left = deadline - performance.now()) {
      const ready = this.c.poll(this.#pollfd, 1n, Math.ceil(left));
      if (ready === 0) break;
      const n = Number(this.c.recv(this.fd, this.#buf, BigInt(this.#buf.length), MSG_DONTWAIT));
      if (n < 0) {
        const e = errnoOf(this.c);
        if (e === ECONNREFUSED) return "refused";
        if (e !== EAGAIN && e !== EINTR) return null;
        continue;
      }
      const data = this.#buf.slice(0, n);
      if (accept(data)) return { data, rttMs: performance.now() - sentAt };
    }
    return null;
  }

  close(): void {
    this.c.close(this.fd);
  }
}

/**
 * The same over a Deno datagram socket, where libc cannot be reached: a
 * closed port is then only a time-out (an unconnected socket hears no ICMP
 * error without libc, in lib/net/udp.ts too).
 */
export function portableExchange(target: HostPort): Exchange {
  const sock = Deno.listenDatagram({
    transport: "udp",
    hostname: target.hostname.includes(":") ? "::" : "0.0.0.0",
    port: 0,
  });
  const to = { transport: "udp" as const, hostname: target.hostname, port: target.port };
  let pending: Promise<[Uint8Array, Deno.Addr]> | undefined;
  return {
    async request(packet, timeoutMs, accept) {
      const sentAt = performance.now();
      await sock.send(packet, to);
      for (let left = timeoutMs; left > 0; left = sentAt + timeoutMs - performance.now()) {
        pending ??= sock.receive();
        let cancel: (() => void) | undefined;
        const timeout = new Promise<null>((resolve) => cancel = after(left, () => resolve(null)));
        const got = await Promise.race([pending, timeout]).finally(() => cancel?.());
        if (got === null) return null;
        pending = undefined;
        const [data, from] = got;
        if ((from as Deno.NetAddr).port === target.port && accept(data)) {
          return { data, rttMs: performance.now() - sentAt };
        }
      }
      return null;
    },
    close() {
      sock.close();
      pending?.catch(() => {});
    },
  };
}

/** A socket for talking to `target` (an address literal): libc's when possible. */
export function openExchange(target: HostPort): Exchange {
  const c = libc();
  const address = c &&
    sockaddr(target, (name) => c.if_nametoindex(new TextEncoder().encode(`${name}\0`)));
  if (c && address) {
    const family = address.length === 16 ? AF_INET : AF_INET6;
    const fd = c.socket(family, SOCK_DGRAM_CLOEXEC, 0);
    if (fd >= 0) {
      if (c.connect(fd, address, address.length) === 0) return new ConnectedExchange(c, fd);
      c.close(fd);
    }
  }
  return portableExchange(target);
}
