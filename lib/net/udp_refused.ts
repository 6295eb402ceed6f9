/**
 * Seeing "port unreachable" on a UDP client socket, as dig and nc -u do.
 * Deno's `DatagramConn` cannot `connect(2)`, and on an unconnected socket
 * Linux reports ICMP errors only with `IP_RECVERR` set; even then the error
 * does not wake a pending receive (it is not "readable"). So a client socket
 * turns `IP_RECVERR` on through FFI and, while it waits for a reply, reads
 * its error queue (`MSG_ERRQUEUE`) on a short, growing schedule: each entry
 * names the destination that was unreachable, so an error caused by an
 * earlier peer is never blamed on the current one, and a closed port on
 * loopback is known within milliseconds instead of after every retry.
 *
 * Used only on sockets a client owns: on a server socket a refused reply to
 * one client must never disturb the others. Where FFI, libc or the socket's
 * descriptor is missing, {@linkcode RefusedWatch.open} returns `undefined`
 * and the client waits out its time-outs as before.
 *
 * @example
 * ```ts ignore
 * import { RefusedWatch } from "./udp_refused.ts";
 * const conn = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
 * const watch = RefusedWatch.open(conn);
 * watch?.drain(); // forget what earlier sends left
 * // send, then while waiting: if (watch?.unreachable(target)) throw ...
 * ```
 * @module
 */
import { formatIPv6 } from "./udp_fast.ts";
import { findSocketFd } from "./socket_fd.ts";
import { AF_INET, AF_INET6, libcLoader, type LibcSymbols, MSG_DONTWAIT } from "./libc.ts";

const SOL_IP = 0;
const IP_RECVERR = 11;
const SOL_IPV6 = 41;
const IPV6_RECVERR = 25;
const MSG_ERRQUEUE = 0x2000;
/** Errors an ICMP "unreachable" becomes (refused, host/net unreachable, no route). */
const UNREACHABLE = new Set([111, 113, 101, 65]);

const SYMBOLS = {
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
} as const;

type Sockopts = LibcSymbols<typeof SYMBOLS>;

const sockopts = libcLoader(SYMBOLS);

/** Milliseconds before the `k`-th look at the error queue (k = 0, 1, ...): 2, 4, 8 ... then 100. */
export function watchStep(k: number): number {
  return Math.min(2 << Math.min(k, 16), 100);
}

/** One ICMP error: the errno it means and where the datagram that caused it was going. */
export interface UnreachableError {
  errno: number;
  hostname: string;
  port: number;
}

/**
 * The destination in a `sockaddr_in`/`sockaddr_in6` at `at` of `b`, as Deno
 * prints addresses (IPv4-mapped IPv6 as its IPv4 text, to match a v4 target).
 */
export function sockaddrTarget(b: Uint8Array, at: number): { hostname: string; port: number } {
  const view = new DataView(b.buffer, b.byteOffset);
  const family = view.getUint16(at, true);
  const port = view.getUint16(at + 2, false);
  if (family === AF_INET) return { hostname: b.subarray(at + 4, at + 8).join("."), port };
  if (family !== AF_INET6) return { hostname: "", port };
  const text = formatIPv6(b, at + 8);
  return {
    hostname: text.startsWith("::ffff:") && text.includes(".") ? text.slice(7) : text,
    port,
  };
}

/** msghdr layout on LP64 Linux: name ptr, namelen, iov ptr, iovlen, control ptr, controllen, flags. */
const MSGHDR = 56;
const NAME = 32;
const CONTROL = 512;
const PAYLOAD = 64;

/** A client socket's ICMP errors, read from its error queue (`MSG_ERRQUEUE`). */
export class RefusedWatch {
  readonly #lib: Sockopts;
  readonly #fd: number;
  readonly #hdr = new Uint8Array(MSGHDR);
  readonly #name = new Uint8Array(NAME);
  readonly #control = new Uint8Array(CONTROL);
  readonly #payload = new Uint8Array(PAYLOAD);
  readonly #iov = new Uint8Array(16);

  private constructor(lib: Sockopts, fd: number) {
    this.#lib = lib;
    this.#fd = fd;
    const ptr = (b: Uint8Array) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
    const iov = new DataView(this.#iov.buffer);
    iov.setBigUint64(0, ptr(this.#payload), true);
    iov.setBigUint64(8, BigInt(PAYLOAD), true);
    const hdr = new DataView(this.#hdr.buffer);
    hdr.setBigUint64(0, ptr(this.#name), true);
    hdr.setBigUint64(16, ptr(this.#iov), true);
    hdr.setBigUint64(24, 1n, true);
    hdr.setBigUint64(32, ptr(this.#control), true);
  }

  /** Turns on ICMP error reports for `conn`; `undefined` where that cannot be done. */
  static open(conn: Deno.DatagramConn): RefusedWatch | undefined {
    const lib = sockopts();
    if (!lib) return undefined;
    const fd = findSocketFd("udp", (conn.addr as Deno.NetAddr).port);
    if (fd === undefined) return undefined;
    const one = new Uint8Array(new Int32Array([1]).buffer);
    const v4 = lib.setsockopt(fd, SOL_IP, IP_RECVERR, one, 4);
    const v6 = lib.setsockopt(fd, SOL_IPV6, IPV6_RECVERR, one, 4);
    return v4 === 0 || v6 === 0 ? new RefusedWatch(lib, fd) : undefined;
  }

  /** Reads every queued ICMP error (none waiting: an empty list). */
  drain(): UnreachableError[] {
    const out: UnreachableError[] = [];
    for (let i = 0; i < 64; i++) {
      const e = this.#next();
      if (!e) break;
      out.push(e);
    }
    return out;
  }

  #next(): UnreachableError | undefined {
    const hdr = new DataView(this.#hdr.buffer);
    hdr.setUint32(8, NAME, true);
    hdr.setBigUint64(40, BigInt(CONTROL), true);
    hdr.setInt32(48, 0, true);
    const n = this.#lib.recvmsg(this.#fd, this.#hdr, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (Number(n) < 0) return undefined;
    const controlLen = Number(hdr.getBigUint64(40, true));
    // cmsghdr (len u64, level i32, type i32), then sock_extended_err: ee_errno u32 first.
    const errno = controlLen >= 20 ? new DataView(this.#control.buffer).getUint32(16, true) : 0;
    return { errno, ...sockaddrTarget(this.#name, 0) };
  }

  /**
   * Forgets errors left by earlier sends; true when one said `to` is unreachable
   * (its datagram was going to `to`).
   */
  unreachable(to: { hostname: string; port: number }): boolean {
    return this.drain().some((e) =>
      UNREACHABLE.has(e.errno) && e.port === to.port && sameHost(e.hostname, to.hostname)
    );
  }
}

function sameHost(a: string, b: string): boolean {
  const norm = (h: string) => h.toLowerCase().replace(/^::ffff:(?=\d+\.)/, "").split("%")[0];
  return norm(a) === norm(b);
}
